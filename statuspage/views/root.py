from django.shortcuts import redirect


def home(request):
    if request.user.is_authenticated:
        return redirect("console:home")
    return redirect("accounts:login")
