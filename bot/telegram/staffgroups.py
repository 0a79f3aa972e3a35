"""Several staff supergroups: which one a customer's topic is in.

Telegram lets a bot post about 20 messages a minute in one group, topic creations included, so one
staff group carries about ten new customers a minute (a topic and a relay each). ``KEFU_STAFF_CHAT_ID``
may list several groups: a new customer goes to the group with the most relay budget left (its free
messages this minute minus what is already queued for it) and stays there for good (stored on the
customer), so the topic and the agents who know the customer stay put. A customer whose group was
removed from the list is assigned again (a new topic is made in the new group).

Example::

    groups = StaffGroups(storage, settings, budget=sender.relay_budget)
    staff_chat = groups.of(customer)        # assigns and stores on first use
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from bot.store.protocol import Store
from bot.store.records import Customer

__all__ = ["StaffChats", "StaffGroups", "choose_group"]

log = logging.getLogger(__name__)


class StaffChats(Protocol):
    """What staff groups read of the settings: every staff group, and the primary one."""

    @property
    def staff_chat_ids(self) -> tuple[int, ...]: ...

    @property
    def staff_chat_id(self) -> int | None: ...


def choose_group(groups: Sequence[int], budget: Callable[[int], float]) -> int:
    """Return the group with the most ``budget``; on a tie the first listed.

    >>> choose_group([-1, -2, -3], {-1: 2.0, -2: 5.0, -3: 5.0}.get)
    -2
    """
    if not groups:
        raise ValueError("no staff group to choose from")
    return max(groups, key=lambda g: (budget(g), -groups.index(g)))


class StaffGroups:
    """The staff groups of ``KEFU_STAFF_CHAT_ID`` and each customer's assignment to one of them."""

    def __init__(
        self,
        storage: Store,
        settings: StaffChats,
        *,
        budget: Callable[[int], float] | None = None,
    ) -> None:
        self.storage = storage
        self.settings = settings
        # Relay budget of a group: the sender's (free messages this minute minus queue); without a sender,
        # minus the queue alone.
        self.budget = budget or (lambda group: -float(storage.staff_load(group)))

    @property
    def chats(self) -> tuple[int, ...]:
        """Return every staff group, the primary first."""
        return self.settings.staff_chat_ids

    def current(self, customer: Customer) -> int | None:
        """Return the group the customer is in now, without assigning one (None: no staff group at all)."""
        if customer.staff_chat_id is not None and customer.staff_chat_id in self.chats:
            return customer.staff_chat_id
        return self.settings.staff_chat_id

    def of(self, customer: Customer) -> int | None:
        """Return the customer's staff group, assigning (and storing) one on first use; None without any."""
        if not self.chats:
            return None
        if customer.staff_chat_id in self.chats:
            return customer.staff_chat_id
        if customer.staff_chat_id is None:  # assigned since this copy was read (an offer before its relay)?
            stored = self.storage.customer(customer.id)
            if stored is not None and stored.staff_chat_id in self.chats:
                return stored.staff_chat_id
            customer = stored or customer
        if customer.staff_chat_id is None and customer.topic_id is not None:
            group = self.chats[0]  # stored before groups were assigned: its topic is in the primary group
            self.storage.update_customer(customer.id, staff_chat_id=group)
            return group
        group = choose_group(self.chats, self.budget) if len(self.chats) > 1 else self.chats[0]
        changes: dict[str, object] = {"staff_chat_id": group}
        if customer.topic_id is not None:  # its old group is gone from the list: a new topic there
            log.warning(
                "customer %s's staff group %s is no longer listed; moving to %s",
                customer.id,
                customer.staff_chat_id,
                group,
            )
            changes.update(topic_id=None, topic_name=None)
        self.storage.update_customer(customer.id, **changes)
        return group

    def of_id(self, customer_id: int | None) -> int | None:
        """Return the staff group of a stored customer (the primary for an unknown one)."""
        customer = self.storage.customer(customer_id) if customer_id is not None else None
        return self.current(customer) if customer is not None else self.settings.staff_chat_id
