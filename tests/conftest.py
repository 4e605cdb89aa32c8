"""What several test files share: a real, headless Chromium driven by Selenium.

Debian's ``chromium`` and ``chromium-driver`` (``make test`` installs them on CI); offline
flags, a fresh profile, a 1280 px wide window. Tests that need it are skipped where no
Chromium is installed.
"""
import os
import shutil

import pytest


def _chromium():
    for path in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if os.access(path, os.X_OK) and shutil.which("chromedriver"):
            return path
    return None


def _driver(tmp_path_factory, width: int, height: int):
    binary = _chromium()
    if binary is None:
        pytest.skip("no Chromium here (make test installs it on CI)")
    os.environ["SE_OFFLINE"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                 f"--window-size={width},{height}", f"--user-data-dir={tmp_path_factory.mktemp('chrome')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A desktop window, 1280 px wide."""
    driver = _driver(tmp_path_factory, 1280, 1600)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def phone(tmp_path_factory):
    """A phone's window, 390 px wide (an iPhone 12 to 15 held upright)."""
    driver = _driver(tmp_path_factory, 390, 844)
    # Chromium's desktop windows have a minimum width: emulate the phone's viewport instead.
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True})
    yield driver
    driver.quit()
