"""Case numbers stay unique when many intakes arrive at once (DESIGN.md §4)."""
import threading

from hotline.cases.numbers import is_valid_case_number
from hotline.extensions import db
from tests.conftest import complaint_payload


def test_200_concurrent_creations_give_200_distinct_valid_numbers(app, make_user, token_for):
    headers = token_for(make_user("operator"))
    n = 200 if db.engine.dialect.name == "postgresql" else 50  # SQLite serialises writers: a smaller crowd
    start = threading.Barrier(n)
    results: list[tuple[int, str | None]] = []
    lock = threading.Lock()

    def create():
        client = app.test_client()
        start.wait()
        response = client.post("/api/v1/cases", json=complaint_payload(), headers=headers)
        with lock:
            results.append((response.status_code, (response.get_json() or {}).get("number")))

    threads = [threading.Thread(target=create) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert [code for code, _ in results] == [201] * n
    numbers = [number for _, number in results]
    assert len(set(numbers)) == n
    assert all(is_valid_case_number(x) for x in numbers)
