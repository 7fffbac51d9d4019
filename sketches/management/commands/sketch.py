"""Render one photo from the command line: manage.py sketch IN OUT --style ink --method artistic."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sketches import engine
from sketches.engine.catalog import METHOD_IDS, STYLE_IDS


class Command(BaseCommand):
    help = "Turn a photo into a drawing with the sketch engine (no database needed)."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("input", help="photo file (JPEG, PNG, WebP, GIF, HEIC)")
        parser.add_argument("output", help="output file; .png, .jpg or .webp")
        parser.add_argument("--style", default="pencil", type=str.lower, choices=STYLE_IDS)
        parser.add_argument("--method", default="basic", type=str.lower, choices=METHOD_IDS)
        parser.add_argument("--strength", type=float, default=0.5)
        parser.add_argument("--detail", type=float, default=0.5)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--quality", type=int, default=90)

    def handle(self, *args, **opts):
        source, target = Path(opts["input"]), Path(opts["output"])
        fmt = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}.get(target.suffix.lower())
        if fmt is None:
            raise CommandError("The output must end in .png, .jpg, .jpeg or .webp.")
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {source}: {exc.strerror}") from None
        try:
            image = engine.decode(data, settings.MAX_IMAGE_PIXELS)
            drawing = engine.render(
                image, opts["style"], opts["method"], strength=opts["strength"], detail=opts["detail"], seed=opts["seed"]
            )
            target.write_bytes(engine.encode(drawing, fmt, opts["quality"]))
        except engine.EngineError as exc:
            raise CommandError(str(exc)) from None
        height, width = drawing.shape[:2]
        self.stdout.write(f"{target}: {width}x{height} {opts['style']}/{opts['method']}")
