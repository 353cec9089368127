"""Instructions a warm process spends on weekly report PDFs, counted by valgrind (callgrind).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/inflow_bench_monday200 \\
        .venv/bin/python -m bench.pdf_instructions [--reports 2] [--language en] [--full-font]

Seconds on a shared machine move by 20-30% from one run to the next; instruction counts do not (the
same run twice: 0.05% apart), so a change to the PDF's code is measured with this. The child process
runs under `valgrind --tool=callgrind --instr-atstart=no`: it sets Django up, warms the renderer up as
a Celery worker does (`pdf_renderer_warm_up`, `pdf_renderer_prepare`), reads the reports' data and
renders the first report once; only then does the parent switch instrumentation on
(`callgrind_control -i on`), the child renders `--reports` reports of the organizations
`monday-00001`... (made by `python -m bench.monday --orgs 200 --generate-only`) and the parent switches
it off. Printed: instructions in all and per report. `--full-font` renders without the reduced copy
of Noto Sans CJK SC (receivables/reporting/fonts.py), for comparison. Under valgrind a report takes
about 20 s: keep `--reports` small.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def child(args: argparse.Namespace) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.utils import timezone

    from receivables.reporting import pdf
    from receivables.reporting.selectors import weekly_report_data
    from tenancy.models import Organization

    if args.full_font:
        pdf.report_font_face_css = lambda: ""
    pdf.pdf_renderer_warm_up()
    pdf.pdf_renderer_prepare()
    organizations = list(Organization.objects.filter(slug__startswith="monday-").order_by("slug")[:args.reports])
    if len(organizations) < args.reports:
        sys.exit(f"{len(organizations)} organizations monday-*: run `python -m bench.monday --orgs 200 --generate-only`")
    today = timezone.localdate()
    generated = timezone.now().replace(minute=0, second=0, microsecond=0)
    data = [weekly_report_data(organization, today) for organization in organizations]
    pdf.weekly_report_pdf(data[0], args.language, generated_at=generated)  # first render: lazy imports, caches
    signal = Path(args.signal)
    signal.write_text("ready")
    while signal.read_text() != "on":
        time.sleep(0.2)
    pages = sum(pdf.weekly_report_pdf(item, args.language, generated_at=generated).pages for item in data)
    signal.write_text(f"done {pages}")
    while signal.read_text() != "off":
        time.sleep(0.2)


def wait_for(signal: Path, prefix: str, process: subprocess.Popen) -> str:
    while not (text := signal.read_text()).startswith(prefix):
        if process.poll() is not None:
            sys.exit(f"the child under valgrind stopped (exit {process.returncode})")
        time.sleep(0.5)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=2)
    parser.add_argument("--language", default="en", choices=["en", "zh-hans"])
    parser.add_argument("--full-font", action="store_true", help="without the reduced copy of Noto Sans CJK SC")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--signal", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    with tempfile.TemporaryDirectory() as directory:
        signal, output = Path(directory) / "signal", Path(directory) / "callgrind.out"
        signal.write_text("")
        command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={output}",
                   sys.executable, "-m", "bench.pdf_instructions", "--child", "--signal", str(signal),
                   "--reports", str(args.reports), "--language", args.language]
        if args.full_font:
            command.append("--full-font")
        # fixed argument lists (valgrind and callgrind_control from PATH), no shell
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # noqa: S603
        wait_for(signal, "ready", process)
        subprocess.run(["callgrind_control", "-i", "on", str(process.pid)], check=True, capture_output=True)  # noqa: S603,S607
        signal.write_text("on")
        pages = int(wait_for(signal, "done", process).split()[1])
        subprocess.run(["callgrind_control", "-i", "off", str(process.pid)], check=True, capture_output=True)  # noqa: S603,S607
        signal.write_text("off")
        _stdout, stderr = process.communicate()
        match = re.search(r"^totals: (\d+)", output.read_text(), re.MULTILINE)
        if process.returncode or match is None:
            sys.exit(f"valgrind failed: {stderr[-2000:]}")
    total = int(match.group(1))
    font = "full Noto Sans CJK SC" if args.full_font else "reduced copy"
    print(f"{args.reports} reports ({pages} pages, {args.language}, {font}): {total / 1e6:,.1f} M instructions, "
          f"{total / args.reports / 1e6:,.1f} M per report")


if __name__ == "__main__":
    main()
