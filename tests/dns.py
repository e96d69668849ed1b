"""A DNS stand-in for tests: TXT records live in a dict the test fills."""

TXT_RECORDS: dict[str, list[str]] = {}


def fake_txt_records(name: str) -> list[str]:
    return list(TXT_RECORDS.get(name, []))
