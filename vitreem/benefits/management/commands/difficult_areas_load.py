"""`vitreem difficult_areas_load FILE --as USERNAME`: the province's list of extremely difficult communes
and villages (Decree 20/2021, Art. 5(7)), from a .xlsx/.xls/.ods/.csv whose first sheet has the columns
Mã xã | Thôn | Từ ngày | Đến ngày | Căn cứ (a commune as "legacy:23500", "2025:23500" or its code in force
on "Từ ngày"; an empty village = the whole commune). All rows or none."""

from django.core.management.base import BaseCommand, CommandError

from vitreem.core.errors import DomainError, ValidationFailed


class Command(BaseCommand):
    help = "Load the list of extremely difficult communes and villages (Decree 20/2021, Art. 5(7))."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--as", dest="as_user", required=True, help="A provincial officer's username")

    def handle(self, *args, file, as_user, **options):
        from vitreem.accounts.models import User
        from vitreem.benefits.services import difficult_areas_load
        from vitreem.imports.reading import ReadError, read_sheets

        try:
            user = User.objects.get(username=as_user, is_active=True)
        except User.DoesNotExist:
            raise CommandError(f"Không có người dùng “{as_user}”.") from None
        try:
            sheets, _encoding = read_sheets(file)
            added = difficult_areas_load(actor=user, rows=sheets[0].rows if sheets else [])
        except ValidationFailed as exc:
            raise CommandError("\n".join(str(m) for m in exc.errors.values())) from exc
        except (DomainError, ReadError, OSError) as exc:
            raise CommandError(str(getattr(exc, "message", exc))) from exc
        self.stdout.write(f"Đã thêm {added} dòng vào danh sách xã, thôn đặc biệt khó khăn.")
