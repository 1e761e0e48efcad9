"""`vitreem audit_seal`: chain the audit rows written since the last seal (run_worker does it every minute)."""

from __future__ import annotations

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Niêm phong (xâu chuỗi băm) các dòng nhật ký mới (seal the new audit rows into the chain)."

    def handle(self, *args, **opts):
        from vitreem.core.audit_chain import audit_seal

        self.stdout.write(f"{audit_seal():,} rows sealed")
