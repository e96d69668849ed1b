from django.apps import AppConfig


class StatuspageConfig(AppConfig):
    name = "statuspage"
    verbose_name = "Status page core"

    def ready(self) -> None:
        from django.urls import register_converter

        from statuspage import lookups  # noqa: F401  (registers field__any)
        from statuspage.public_ids import PublicIdConverter

        register_converter(PublicIdConverter, "pid")
