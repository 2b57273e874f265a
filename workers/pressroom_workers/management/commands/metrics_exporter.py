import os

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = ("Serve the Prometheus metrics of every worker process on this host (prometheus_client multiprocess "
            "mode: start the workers with the same PROMETHEUS_MULTIPROC_DIR).")

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=9100)
        parser.add_argument("--bind", default="127.0.0.1", help="Keep it on an internal address.")

    def handle(self, *args, port: int, bind: str, **options):
        import time

        from prometheus_client import CollectorRegistry, multiprocess, start_http_server

        folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if not folder or not os.path.isdir(folder):
            raise CommandError("Set PROMETHEUS_MULTIPROC_DIR to the folder the workers write their metrics to.")
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        start_http_server(port, addr=bind, registry=registry)
        self.stdout.write(f"Worker metrics from {folder} at http://{bind}:{port}/metrics")
        while True:
            time.sleep(3600)
