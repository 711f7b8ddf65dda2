"""Contract tests run on the shared ``chain`` fixture (tests/conftest.py): embedded EVM and anvil."""
