from tests.contracts.conftest import chain  # noqa: F401 - the same two-backend fixture as the contract tests
