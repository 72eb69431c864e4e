"""pytest configuration for the ehrchain interoperability suite."""

import os

from ehrcli import DEFAULT_BIN


def pytest_report_header(config):
    return f"ehrchain binary: {os.environ.get('EHRCHAIN_BIN') or DEFAULT_BIN}"
