"""Walking one demo request through the case services to the status chosen for it."""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.contrib.auth.models import AbstractUser

from tawasul.beneficiaries.models import Beneficiary
from tawasul.cases import services as cases
from tawasul.cases.models import Category, Channel, Priority, Request, Status
from tawasul.demo import ministry, texts
from tawasul.directory.models import Entity, EntityKind


@dataclass(frozen=True)
class Topic:
    """A leaf category and what the generator needs to write requests about it."""

    category: Category
    top_code: str
    scope: str
    kinds: tuple[str, ...]


@dataclass
class Team:
    """The demo staff of one care centre."""

    entity: Entity
    agents: list[AbstractUser]
    supervisor: AbstractUser
    manager: AbstractUser


@dataclass
class World:
    rng: random.Random
    entities: dict[str, Entity]
    central: Entity
    teams: dict[str, Team]
    topics: list[Topic]
    beneficiaries: list[Beneficiary]


# --- driving one request ------------------------------------------------------------------

_CHANNELS = (
    (Channel.PORTAL, 40),
    (Channel.APP, 25),
    (Channel.CALL_CENTRE, 15),
    (Channel.EMAIL, 8),
    (Channel.SOCIAL, 7),
    (Channel.WALK_IN, 3),
    (Channel.OPEN311, 2),
)
_PRIORITIES = ((Priority.NORMAL, 70), (Priority.HIGH, 15), (Priority.LOW, 8), (Priority.URGENT, 7))
_KIND_SHARES = (
    ("complaint", 42),
    ("inquiry", 38),
    ("suggestion", 7),
    ("observation", 7),
    ("praise", 6),
)
_TRIAGE_ENTITY_NONE = 0.12  # share of requests sent without choosing an entity


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights)[0]


class RequestDriver:
    """Makes one request and walks it to a target status through the case services."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.rng = world.rng
        self.by_scope = self._entities_by_scope()
        self.topics = {topic.category.code: topic for topic in world.topics}
        self.topic = world.topics[0]
        self.given: dict[str, str] = {}

    def _entities_by_scope(self) -> dict[str, tuple[list[Entity], list[float]]]:
        def pick(kinds: tuple[str, ...]) -> tuple[list[Entity], list[float]]:
            chosen = [e for e in self.world.entities.values() if e.kind in kinds]
            default = ministry.UNIVERSITY_WEIGHT if kinds == (EntityKind.UNIVERSITY,) else 1.0
            return chosen, [ministry.VOLUME_WEIGHTS.get(e.code, default) for e in chosen]

        return {
            "school": pick((EntityKind.REGION, EntityKind.OFFICE)),
            "university": pick((EntityKind.UNIVERSITY,)),
            "ministry": pick((EntityKind.AGENCY,)),
        }

    # -- submission

    def request_make(self, target: Status) -> Request:
        kind = _weighted(self.rng, _KIND_SHARES)
        topic, subject, body = self._pick(kind)
        self.topic = topic
        self.given = {"topic": topic.category.name_ar}
        if topic.top_code in texts.UNITS:
            self.given["unit"] = texts.UNITS[topic.top_code]
        destination = self._destination(topic)
        entity = None if self._to_central(topic) else destination
        request = self._submit(kind, topic, entity, self._compose(subject, body, destination))
        return self._drive(request, target, destination)

    def _pick(self, kind: str) -> tuple[Topic, str, str]:
        """A topic (leaf category) and the subject and description templates to write."""
        rng = self.rng
        tagged: list[tuple[str, str, str]] = list(texts.PRAISE) if kind == "praise" else []
        for by_kind in texts.REQUESTS.values():
            tagged.extend(by_kind.get(kind, ()))
        generic = {"suggestion": texts.SUGGESTIONS, "observation": texts.OBSERVATIONS}
        if kind in generic and (not tagged or rng.random() < 0.8):
            topic = rng.choice([t for t in self.world.topics if kind in t.kinds])
            return (topic, *rng.choice(generic[kind]))
        code, subject, body = rng.choice(tagged)
        return self.topics[code], subject, body

    def _destination(self, topic: Topic) -> Entity:
        scope = topic.scope
        if topic.category.code == "thanks-university":
            scope = "university"
        elif scope == "any":
            scope = "school" if self.rng.random() < 0.75 else "university"
        entities, weights = self.by_scope[scope]
        return self.rng.choices(entities, weights)[0]

    def _to_central(self, topic: Topic) -> bool:
        if topic.scope == "ministry":  # to a deputyship or to nobody: both land centrally
            return self.rng.random() < 0.5
        return self.rng.random() < _TRIAGE_ENTITY_NONE

    def _submit(
        self, kind: str, topic: Topic, entity: Entity | None, text: tuple[str, str]
    ) -> Request:
        rng = self.rng
        channel = _weighted(rng, _CHANNELS)
        on_behalf = None
        if channel in (Channel.CALL_CENTRE, Channel.WALK_IN):
            on_behalf = rng.choice(self._team(entity or self.world.central).agents)
        priority = _weighted(rng, _PRIORITIES)
        if kind in ("praise", "suggestion"):
            priority = Priority.LOW if rng.random() < 0.5 else Priority.NORMAL
        return cases.request_submit(
            beneficiary=rng.choice(self.world.beneficiaries),
            kind=kind,
            category=topic.category,
            subject=text[0],
            description=text[1],
            channel=channel,
            entity=entity,
            priority=priority,
            by=on_behalf,
        )

    def _compose(self, subject: str, body: str, destination: Entity) -> tuple[str, str]:
        """Fill the templates as a beneficiary writes: greeting, text, closing, spelling."""
        rng = self.rng
        if destination.kind == EntityKind.UNIVERSITY:
            self.given["university"] = destination.name_ar
        else:
            self.given["university"] = rng.choice(self.by_scope["university"][0]).name_ar
        body = rng.choice(texts.GREETINGS) + body + rng.choice(texts.CLOSINGS)
        subject, body = self._fill(subject), self._fill(body)
        if rng.random() < 0.35:
            subject, body = texts.vary(subject, rng), texts.vary(body, rng)
        return subject[:200], body

    def _fill(self, template: str) -> str:
        return texts.fill(template, self.rng, self.given)

    # -- the walk

    def _drive(self, request: Request, target: Status, destination: Entity) -> Request:
        if target == Status.CANCELLED:
            return self._cancel(request)
        request = self._triage(request, destination)
        if target == Status.NEW:
            return request
        return self._work_to(request, target)

    def _work_to(self, request: Request, target: Status) -> Request:
        """From taken (assigned) to the target status, the way centres work."""
        request, agent = self._take(request)
        if target == Status.ASSIGNED:
            return request
        request = cases.request_start(request=request, by=agent)
        request = self._work(request, agent)
        if target == Status.IN_PROGRESS:
            return self._maybe_reopened(request, agent)
        if target == Status.AWAITING_BENEFICIARY:
            return self._ask(request, agent)[0]
        return self._after_answer(self._answer(request, agent), target, agent)

    def _maybe_reopened(self, request: Request, agent: AbstractUser) -> Request:
        """Some requests in progress are back after an upheld objection."""
        if self.rng.random() < 0.12:
            request = self._answer(request, agent)
            request = self._object(request)
            request = self._reopen(request)
        return request

    def _after_answer(self, request: Request, target: Status, agent: AbstractUser) -> Request:
        if target == Status.OBJECTED:
            return self._object(request)
        if target == Status.CLOSED:
            return self._close(request, agent)
        return request

    def _team(self, entity: Entity) -> Team:
        """The demo team that works requests of `entity` (the central one by default)."""
        best = self.world.teams[ministry.MINISTRY[0]]
        for team in self.world.teams.values():
            if entity.path.startswith(team.entity.path) and team.entity.depth > best.entity.depth:
                best = team
        return best

    def _line(self, options: tuple[str, ...]) -> str:
        return self._fill(self.rng.choice(options))

    def _triage(self, request: Request, destination: Entity) -> Request:
        """The central centre forwards what it received; a few come back as misrouted."""
        rng = self.rng
        if request.entity_id != self.world.central.pk or destination.kind == EntityKind.AGENCY:
            return request
        if rng.random() < 0.2:
            return request  # still waiting for triage
        central_agent = rng.choice(self._team(request.entity).agents)
        request = cases.request_forward(
            request=request,
            by=central_agent,
            to_entity=destination,
            reason=self._line(texts.FORWARD_REASONS),
        )
        if rng.random() < 0.1:
            receiver = rng.choice(self._team(request.entity).agents)
            request = cases.request_return(
                request=request, by=receiver, reason=self._line(texts.RETURN_REASONS)
            )
        return request

    def _take(self, request: Request) -> tuple[Request, AbstractUser]:
        team = self._team(request.entity)
        agent = self.rng.choice(team.agents)
        if self.rng.random() < 0.65:
            request = cases.request_claim(request=request, by=agent)
        else:
            request = cases.request_assign(request=request, assignee=agent, by=team.supervisor)
        return request, agent

    def _work(self, request: Request, agent: AbstractUser) -> Request:
        rng = self.rng
        if rng.random() < 0.3:
            cases.request_note(request=request, by=agent, body=self._line(texts.NOTES))
        if rng.random() < 0.25:
            cases.request_reply(request=request, by=agent, body=self._line(texts.REPLIES))
        if rng.random() < 0.2:
            request, replies = self._ask(request, agent)
            cases.request_beneficiary_reply(
                request=request,
                beneficiary=request.beneficiary,
                body=self._beneficiary_line(replies),
            )
        return request

    def _beneficiary_line(self, options: tuple[str, ...]) -> str:
        line = self._line(options)
        return texts.vary(line, self.rng) if self.rng.random() < 0.4 else line

    def _ask(self, request: Request, agent: AbstractUser) -> tuple[Request, tuple[str, ...]]:
        question, replies = self.rng.choice(texts.QUESTIONS)
        request = cases.request_ask_beneficiary(
            request=request, by=agent, question=self._fill(question)
        )
        return request, replies

    def _answer(self, request: Request, agent: AbstractUser) -> Request:
        return cases.request_answer(
            request=request,
            by=agent,
            resolution=self._line(self._answers(request.kind)),
            resolution_code=self.rng.choice(("resolved", "informed", "referred", "no_action")),
        )

    def _answers(self, kind: str) -> tuple[str, ...]:
        if kind != "complaint":
            return texts.ANSWERS[kind]
        return texts.ANSWERS[kind] + texts.CATEGORY_ANSWERS.get(self.topic.top_code, ())

    def _object(self, request: Request) -> Request:
        return cases.request_object(
            request=request,
            beneficiary=request.beneficiary,
            reason=self._beneficiary_line(texts.OBJECTIONS),
        )

    def _reopen(self, request: Request) -> Request:
        return cases.request_reopen(
            request=request,
            by=self._team(request.entity).supervisor,
            reason=self._line(texts.REOPEN_REASONS),
        )

    def _close(self, request: Request, agent: AbstractUser) -> Request:
        """An answered request ends closed: accepted, window expired, or after an objection."""
        draw = self.rng.random()
        if draw < 0.3:
            request = self._object(request)
            if draw < 0.15:
                return cases.request_reject_objection(
                    request=request,
                    by=self._team(request.entity).supervisor,
                    justification=self._line(texts.OBJECTION_REJECTIONS),
                )
            request = self._reopen(request)
            request = self._answer(request, agent)
        if self.rng.random() < 0.55:
            return cases.request_accept(request=request, beneficiary=request.beneficiary)
        return cases.request_close_on_expiry(request=request)

    def _cancel(self, request: Request) -> Request:
        rng = self.rng
        if rng.random() < 0.5:
            return cases.request_cancel(
                request=request,
                beneficiary=request.beneficiary,
                reason=self._beneficiary_line(texts.WITHDRAW_REASONS),
            )
        team = self._team(request.entity)
        if rng.random() < 0.5:
            request, agent = self._take(request)
            request = cases.request_start(request=request, by=agent)
        return cases.request_cancel(
            request=request, by=team.supervisor, reason=self._line(texts.STAFF_CANCEL_REASONS)
        )
