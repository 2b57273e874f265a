# The API fixtures (keys with scopes, clients) are shared with the API tests.
from tests.api.conftest import api, make_client, other_workspace  # noqa: F401
