"""Time a host's browser import on a running site: sign in, upload, follow the progress.

    python -m leaderboard.bench.web_import --url http://127.0.0.1:8000 \\
        --username demo --password demo-password --idx /usr/share/datasets/fashion-mnist

It does over HTTP what the new-challenge page does: the test set's IDX files go in one zip,
the form is posted, and the data page's progress endpoint is polled until the worker is done.
Prints the upload time, the import time (queued to done) and the images per second.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import time
import uuid
import zipfile
from pathlib import Path

import requests

TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def idx_zip(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in TEST_FILES:
            archive.write(folder / name, name)
    return buffer.getvalue()


def csrf(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=30)
    page.raise_for_status()
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if not found:
        raise SystemExit(f"no form at {url} (signed in? allowed to host?)")
    return found.group(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--username", default="demo")
    parser.add_argument("--password", default="demo-password")
    parser.add_argument("--idx", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args(argv)
    base = args.url.rstrip("/")
    session = requests.Session()
    token = csrf(session, f"{base}/accounts/login/")
    session.post(
        f"{base}/accounts/login/",
        data={"username": args.username, "password": args.password, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/accounts/login/"},
        timeout=30,
    ).raise_for_status()
    slug = f"bench-{uuid.uuid4().hex[:8]}"
    data = idx_zip(args.idx)
    token = csrf(session, f"{base}/host/challenges/new/")
    form = {
        "csrfmiddlewaretoken": token,
        "title": f"Import benchmark {slug}",
        "slug": slug,
        "channels": "1",
        "height": "28",
        "width": "28",
        "mean": "0.2860",
        "std": "0.3530",
        "public_fraction": "0.5",
        "seed": "0",
        "primary_metric": "top1",
        "year": str(time.gmtime().tm_year),
        "closes_at": "2099-01-01T00:00",
    }
    started = time.perf_counter()
    response = session.post(
        f"{base}/host/challenges/new/",
        data=form,
        files={"test_set": ("fashion-mnist-test.zip", data, "application/zip")},
        headers={"Referer": f"{base}/host/challenges/new/"},
        allow_redirects=False,
        timeout=600,
    )
    uploaded = time.perf_counter() - started
    if response.status_code != 302:
        print(response.text[:2000], file=sys.stderr)
        raise SystemExit(f"the form answered {response.status_code}")
    page = session.get(f"{base}/c/{slug}/host/data/", timeout=30).text
    progress_url = re.search(r'data-progress-url="([^"]+)"', page).group(1)
    while True:
        state = session.get(f"{base}{progress_url}", timeout=30).json()
        if state["finished"]:
            break
        if time.perf_counter() - started > args.timeout:
            raise SystemExit(f"not finished after {args.timeout:.0f} s: {state}")
        time.sleep(0.2)
    total = time.perf_counter() - started
    if state["status"] != "done":
        raise SystemExit(f"import failed: {state['error']}")
    images = state["total"]
    print(f"challenge          /c/{slug}/ ({len(data) / 2**20:.1f} MiB zip of IDX files)")
    print(f"upload (request)   {uploaded:.2f} s")
    print(f"upload to done     {total:.2f} s for {images} images")
    print(f"overall            {images / total:.0f} images/s")
    print(f"compile step       {state['images_per_second']:.0f} images/s (the worker's own rate)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
