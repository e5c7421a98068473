"""Fixtures of the consumer portal's tests: a complaint with its query code, taken through the bureau."""
import pytest

from hotline.outbox.relay import run_pending


@pytest.fixture
def filed(make_case):
    """A complaint at the 铁西 bureau (routed): (case, query code)."""
    def make(**over):
        registered = make_case(**over)
        run_pending()
        return registered.case, registered.query_code
    return make


@pytest.fixture
def act(client, make_user, token_for):
    """Take an action on a case through the staff API, as the 铁西 bureau."""
    headers = {}

    def do(case, action, **body):
        if not headers:
            headers.update(token_for(make_user("bureau", bureau="tiexi")))
        response = client.post(f"/api/v1/cases/{case.number}/actions", json={"action": action, **body},
                               headers=headers)
        assert response.status_code == 200, response.get_json()
        return response
    return do
