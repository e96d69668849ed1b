CALLS: list[str] = []


def probe_job() -> None:
    CALLS.append("ran")
