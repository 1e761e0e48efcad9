"""Creating children in bulk: the rows the engine prepared and matched as new, handed to the registry's
bulk-register service (registry.services_bulk), which writes what child_register writes — plus the
episodes, risks, households and poverty a list states — by COPY, with the audit rows, in the import's
transaction. This section only maps the engine's `Prepared` rows to the service's `NewChild`."""

from __future__ import annotations

from vitreem.registry.services_bulk import NewChild, children_register_bulk

from .state import ImporterState, Prepared


def new_child(p: Prepared) -> NewChild:
    """The registry's description of the child a prepared row registers."""
    return NewChild(data=p.data, unit=p.unit, ethnicity_id=p.ethnicity_id, guardians=p.guardians, poverty=p.poverty,
                    groups=p.groups, risks=p.risks)


class BulkCreator(ImporterState):
    def _create(self, rows: list[Prepared]) -> list[int]:
        """New children for `rows` (registry.services_bulk.children_register_bulk, this import's
        session). Returns their ids, in the order of `rows`."""
        return children_register_bulk(session=self.bulk, rows=[new_child(p) for p in rows])
