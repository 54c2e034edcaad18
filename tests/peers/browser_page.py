"""
Headless Chromium (Debian's chromium and chromium-driver, driven by
selenium) on a device's page, for the browser test. Run it in a network
namespace of the test's own (nothing leaves it):

    python browser_page.py PAGE_URL DESCRIPTION_URL

It loads the page, reads what it shows, calls Increment with a form, has
another control point (upnp-announce, a separate process) call Increment
by SOAP and times how long the open page takes to show it, calls Reset until
it faults, and lists every URL the page requested. One JSON line.
"""

import json
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

page, location = sys.argv[1], sys.argv[2]
COUNT = 'output[data-service="urn:boucherie.example.com:serviceId:Counter"][data-variable="Count"]'

options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-default-apps", "--disable-extensions",
             f"--user-data-dir={tempfile.mkdtemp()}"):
    options.add_argument(flag)
options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(20)
wait = WebDriverWait(driver, 10, poll_frequency=0.02)
result = {}
try:
    # Start from an empty tab, and forget what the browser loaded for itself.
    driver.get("about:blank")
    driver.get_log("performance")
    driver.get(page)
    wait.until(lambda d: d.find_element(By.ID, "live").text == "Live")
    result["h1"] = driver.find_element(By.TAG_NAME, "h1").text
    result["facts"] = driver.find_element(By.TAG_NAME, "dl").text
    result["initial"] = driver.find_element(By.CSS_SELECTOR, COUNT).text

    # A call through the page's own form, by keyboard.
    form = driver.find_element(By.CSS_SELECTOR, 'form[data-action="Increment"]')
    step = form.find_element(By.NAME, "Step")
    step.send_keys("5")
    form.find_element(By.TAG_NAME, "button").click()
    wait.until(lambda d: form.find_element(By.CSS_SELECTOR, ".result").text not in ("", "\u2026"))
    result["form_result"] = form.find_element(By.CSS_SELECTOR, ".result").text
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, COUNT).text == "5")
    result["after_form"] = driver.find_element(By.CSS_SELECTOR, COUNT).text

    # A SOAP call from another control point: the open page shows it.
    subprocess.run([sys.executable, "-m", "upnp_announce.cli", "call", location, "Counter",
                    "Increment", "Step=2"], check=True, capture_output=True, timeout=30)
    called = time.monotonic()
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, COUNT).text == "7")
    result["external_latency"] = time.monotonic() - called

    # A fault: Reset twice (the second at zero is UPnP error 701).
    reset = driver.find_element(By.CSS_SELECTOR, 'form[data-action="Reset"]')
    for _ in range(2):
        reset.find_element(By.TAG_NAME, "button").click()
        time.sleep(0.3)
    wait.until(lambda d: "fault" in reset.find_element(By.CSS_SELECTOR, ".result")
               .get_attribute("class"))
    result["fault"] = reset.find_element(By.CSS_SELECTOR, ".result").text

    # Every request the page made.
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    result["requests"] = urls
finally:
    driver.quit()
print(json.dumps(result), flush=True)
