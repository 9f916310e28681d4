"""Runtime stage, sequences: enrollments, step timing, limits and automatic exits.

A contact is in at most one sequence at a time. What happens to it is decided by
its own inputs — the enrollment requests of the workflow phase, the unenroll
actions, its replies, meetings, bounces, unsubscribes, completed tasks and its
company's replies — except for the senders' daily limits, which all contacts of a
sender share. So this phase alternates two steps until nothing is left before now:

1. *advance* (a map over independent contacts): each
   :class:`~seqdsl.runtime.tracks.Track` handles its inputs and due steps in time
   order until it reaches an enrollment or email that a limit applies to and that
   is not decided yet;
2. *decide* (:mod:`~seqdsl.runtime.limits`): the earliest waiting item of all, by
   due time then record id, gets through if its sender's count for that day is
   below the limit, else it moves to the next allowed day; its contact advances
   again.

A contact's next item is never due before the item that made it, and a deferred
item lands on a later day, so taking the earliest waiting item each time serves
every sender's day in due-then-record order: the window ranking the limits are
defined by, one item at a time (a heap keeps the order).

Timing: the first step is due at enrollment (or at `start at step`, or after the
last completed step on `resume`); each later step is due its delay after the time
the previous step ran, keeping the local clock time in the contact's zone; every due
time then moves to the next opening of the send window on an allowed day. A task
step `until completed` pauses the sequence until a `task_completed` event names the
step; the next delay counts from the completion.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import logging
from collections.abc import Sequence

from seqdsl import ast
from seqdsl.runtime import limits
from seqdsl.runtime.contacts import ContactReader
from seqdsl.runtime.context import (
    RunContext,
    SequenceExit,
    SequenceRequest,
    window_of,
)
from seqdsl.runtime.outbox import Decision, stamp
from seqdsl.runtime.snapshot import Snapshots
from seqdsl.runtime.tracks import (
    ACTIVE,
    ALWAYS,
    ENDED,
    EXIT_EVENTS,
    PAUSED,
    PENDING,
    QUEUED,
    STEP,
    Input,
    SeqEnrollment,
    Track,
    exit_reasons,
    follow_up,
    limit_of,
    send_window,
    sender_of_spec,
    sender_spec,
    start_of_spec,
    start_spec,
    step_action,
)

__all__ = ["SequencePhase"]

log = logging.getLogger("seqdsl.runtime.sequences")

_FAR = dt.datetime.max.replace(tzinfo=dt.UTC)
# a contact's sequence decisions come after its workflow decisions at one instant
_SEQUENCE_ORDER = 1 << 40
# the stages the phase reports to the run's progress, and how often it does
_STEPPING = "stepping sequence enrollments"
_LIMITING = "deciding sender limits"
_EVERY = 5000


class SequencePhase:
    """Sequence enrollments and steps of every contact up to the run's now."""

    def __init__(self, ctx: RunContext, snapshots: Snapshots) -> None:
        self.ctx = ctx
        self.snap = snapshots
        self.sequences = dict(ctx.checked.sequences)
        self._step_cache: dict[str, tuple[ast.Step, ...]] = {}
        self._caps: dict[tuple[str, str], int | None] = {}
        self.tracks: dict[str, Track] = {}
        self.reader = ContactReader(ctx, snapshots, self.sequences)
        self.profiles: dict[tuple[str, dt.datetime], dict[str, str | None]] = {}
        self.problems: dict[str, dict[str, dt.datetime]] = {}
        # limited items decided (each against its sender's daily count)
        self.limited = 0
        # the items a limit moved to a later day, in the order they were decided
        self.deferred: list[limits.Item] = []
        self.ledger = limits.Ledger({})

    # -- loading

    def load(
        self, requests: Sequence[SequenceRequest], exits: Sequence[SequenceExit]
    ) -> None:
        """The contacts with anything to do in the period, and their inputs."""
        self.tracks = self.reader.tracks(requests, exits)

    # -- the phase

    def run(self) -> None:
        """Advance every contact; decide limited items in due order until nothing
        is left before now."""
        self._profiles()
        self.ledger = limits.Ledger.read(self.snap.con)
        heap: list[tuple[dt.datetime, str, Track]] = []
        progress, total = self.ctx.progress, len(self.tracks)
        for number, track in enumerate(self.tracks.values()):
            if number % _EVERY == 0:
                progress(_STEPPING, number, total)
            if self._advance(track) and track.blocked is not None:
                heap.append((track.blocked.due_at, track.record_id, track))
        progress(_STEPPING, total, total)
        heapq.heapify(heap)
        while heap:
            if self.limited % _EVERY == 0:
                progress(_LIMITING, self.limited, None)
            _, _, track = heapq.heappop(heap)
            assert track.blocked is not None
            self._settle(track, self.ledger.admit(track.blocked))
            self.limited += 1
            if self._advance(track) and track.blocked is not None:
                heapq.heappush(heap, (track.blocked.due_at, track.record_id, track))
        self.ledger.write(self.snap.con)

    def _settle(self, track: Track, allowed: bool) -> None:
        item, enrollment = track.blocked, track.current
        assert item is not None and enrollment is not None
        track.blocked = None
        if allowed:
            enrollment.allowed = True
            return
        self.deferred.append(item)
        day = item.day + dt.timedelta(days=1)
        start = self.ctx.calendar.start_of_day(day)
        if item.kind == limits.ENROLLMENTS:
            moved = start
        else:
            moved = self._opening(enrollment, start)
        what = "enrollment" if item.kind == limits.ENROLLMENTS else "email"
        detail = f"{what} moved to {stamp(moved)}"
        reason = (
            f"limit of {item.cap} {item.kind} per day for sender {item.sender} "
            f"reached on {item.day.isoformat()}"
        )
        self._note(
            track,
            item.due_at,
            enrollment.sequence,
            "deferred",
            detail=detail,
            reason=reason,
        )
        enrollment.due_at = moved

    # -- advancing one contact

    def _advance(self, track: Track) -> bool:
        """Handle the contact's inputs and due items in time order; True when it
        stops at an item a limit must decide first."""
        now = self.ctx.as_of
        while True:
            due = self._due_item(track)
            ahead = track.inputs[0] if track.inputs else None
            if (
                ahead is not None
                and ahead.at <= now
                and (due is None or ahead.key() < due)
            ):
                track.inputs.pop(0)
                self._handle(track, ahead)
                continue
            if due is None or due[0] > now:
                return False
            enrollment = track.current
            assert enrollment is not None
            item = self._limited(track, enrollment)
            if item is not None and not enrollment.allowed:
                track.blocked = item
                return True
            enrollment.allowed = False
            if enrollment.status == PENDING:
                self._start(track, enrollment, due[0])
            else:
                self._run_step(track, enrollment, due[0])

    def _due_item(self, track: Track) -> tuple[dt.datetime, int, int] | None:
        current = track.current
        if current is None or current.status not in (PENDING, ACTIVE):
            return None
        assert current.due_at is not None
        return (current.due_at, STEP, 0)

    def _limited(self, track: Track, enrollment: SeqEnrollment) -> limits.Item | None:
        """The limit item for the enrollment's due item, if a limit applies."""
        decl = self.sequences.get(enrollment.sequence)
        if decl is None or enrollment.due_at is None:
            return None
        if enrollment.status == PENDING:
            kind = limits.ENROLLMENTS
        else:
            step = self._step(enrollment)
            if step is None or step.kind is not ast.StepKind.EMAIL:
                return None
            kind = limits.EMAILS
        cap = self._cap(decl, kind)
        if cap is None:
            return None
        day = self.ctx.calendar.local_date(enrollment.due_at)
        sender = enrollment.sender or ""
        return limits.Item(
            track.record_id,
            enrollment.sequence,
            sender,
            kind,
            enrollment.due_at,
            day,
            cap,
        )

    def _cap(self, decl: ast.SequenceDecl, kind: str) -> int | None:
        key = (decl.name, kind)
        if key not in self._caps:
            self._caps[key] = limit_of(decl, kind)
        return self._caps[key]

    def _handle(self, track: Track, item: Input) -> None:
        if item.kind == "request":
            assert isinstance(item.payload, SequenceRequest)
            self._request(track, item.payload)
        elif item.kind == "exit":
            assert isinstance(item.payload, SequenceExit)
            self._exit(track, item.payload)
        elif item.kind == "task_completed":
            self._completed(track, item.at, item.payload)
        else:
            self._event(track, item.at, item.kind)

    # -- requests

    def _request(self, track: Track, request: SequenceRequest) -> None:
        decl = self.sequences.get(request.sequence)
        if decl is None:
            return
        problem = self._refusal(track, request)
        current = track.current
        if problem is None and current is not None:
            queues = any(isinstance(i, ast.QueueIfEnrolled) for i in decl.items)
            if queues and current.sequence != request.sequence:
                track.queue.append(self._queued(track, request))
                detail = f'behind sequence "{current.sequence}"'
                self._note(track, request.at, request.sequence, "queued", detail=detail)
                return
            problem = "ALREADY_ENROLLED"
        if problem is not None:
            self._refuse(track, request, problem)
            return
        self._accept(track, request, request.at)

    def _refusal(self, track: Track, request: SequenceRequest) -> str | None:
        """Why the contact's email cannot get sequence emails at the request."""
        profile = self.profiles.get((track.record_id, request.at), {})
        if not (profile.get("email") or "").strip():
            return "MISSING_EMAIL"
        if self._ever(track, "email_bounce", request.at):
            return "BOUNCED"
        optout = (profile.get("optout") or "").strip().lower() in ("true", "yes", "1")
        if optout or self._ever(track, "unsubscribe", request.at):
            return "UNSUBSCRIBED"
        return None

    def _ever(self, track: Track, kind: str, at: dt.datetime) -> bool:
        first = self.problems.get(track.record_id, {}).get(kind)
        return first is not None and first <= at

    def _refuse(self, track: Track, request: SequenceRequest, problem: str) -> None:
        identity = (
            request.sequence,
            self.ctx.version(request.sequence),
            track.record_id,
            "refuse",
            request.at.isoformat(),
            request.source,
        )
        reason = _REFUSALS[problem]
        self._emit(
            track, request.at, request.sequence, "refuse", identity, reason=reason
        )

    def _queued(self, track: Track, request: SequenceRequest) -> SeqEnrollment:
        return SeqEnrollment(
            track.record_id,
            request.sequence,
            0,
            QUEUED,
            request.at,
            sender=sender_spec(request.sender),
            source=request.source,
            start_step=start_spec(request.start),
        )

    def _accept(self, track: Track, request: SequenceRequest, at: dt.datetime) -> None:
        """Enroll (or, under an enrollment limit, wait for room to enroll)."""
        decl = self.sequences[request.sequence]
        occurrence = track.occurrences(request.sequence) + 1
        sender = self._sender(track, decl, request, occurrence, at)
        if sender is None:
            self._refuse(track, request, "NO_SENDER")
            return
        zone = self._zone(track, request, decl)
        track.current = SeqEnrollment(
            track.record_id,
            request.sequence,
            occurrence,
            PENDING,
            at,
            sender=sender,
            zone=zone,
            source=request.source,
            start_step=start_spec(request.start),
            due_at=at,
        )

    def _sender(
        self,
        track: Track,
        decl: ast.SequenceDecl,
        request: SequenceRequest,
        occurrence: int,
        at: dt.datetime,
    ) -> str | None:
        sender = request.sender or next(
            (i for i in decl.items if isinstance(i, ast.Sender)), None
        )
        if sender is None or sender.kind is ast.SenderKind.OWNER:
            profile = self.profiles.get((track.record_id, request.at), {})
            owner = (profile.get("owner") or "").strip()
            return owner or None
        if sender.kind is ast.SenderKind.USER:
            return sender.users[0]
        seed = f"{decl.name}\x1f{track.record_id}\x1f{occurrence}"
        index = int(hashlib.md5(seed.encode()).hexdigest()[:8], 16) % len(sender.users)
        return sender.users[index]

    def _zone(
        self, track: Track, request: SequenceRequest, decl: ast.SequenceDecl
    ) -> str:
        window = send_window(decl)
        calendar = self.ctx.calendar
        if window is None or not window.contact_zone:
            return calendar.zone
        profile = self.profiles.get((track.record_id, request.at), {})
        return calendar.zone_or_default(profile.get("zone"))

    # -- enrollment, steps, ends

    def _start(self, track: Track, enrollment: SeqEnrollment, at: dt.datetime) -> None:
        """A pending enrollment starts: the first (or chosen) step is scheduled."""
        steps = self._steps(enrollment.sequence)
        first = self._first_step(track, enrollment, steps)
        enrollment.status, enrollment.enrolled_at = ACTIVE, at
        identity = self._identity(enrollment, "enroll")
        reason = _requested_by(enrollment.source)
        detail = f"sender {enrollment.sender}"
        self._emit(
            track,
            at,
            enrollment.sequence,
            "enroll",
            identity,
            detail=detail,
            reason=reason,
        )
        if first is None:
            self._end(track, enrollment, at, "no steps left to resume", decision=False)
            return
        enrollment.next_step = first
        enrollment.due_at = self._opening(enrollment, at)

    def _first_step(
        self, track: Track, enrollment: SeqEnrollment, steps: Sequence[ast.Step]
    ) -> str | None:
        names = [s.name for s in steps]
        spec = enrollment.start_step or ""
        if spec.startswith("step:") and spec[5:] in names:
            return spec[5:]
        if spec == "resume":
            done = [
                e.last_done for e in track.past if e.sequence == enrollment.sequence
            ]
            last = next((d for d in reversed(done) if d), None)
            if last in names:
                index = names.index(last) + 1
                return names[index] if index < len(names) else None
        return names[0] if names else None

    def _run_step(
        self, track: Track, enrollment: SeqEnrollment, at: dt.datetime
    ) -> None:
        step = self._step(enrollment)
        if step is None:
            reason = "the sequence was edited and its next step is gone"
            self._end(track, enrollment, at, reason, decision=True)
            return
        kind, detail = step_action(step, enrollment.sender)
        identity = self._identity(enrollment, step.name)
        self._emit(
            track,
            at,
            enrollment.sequence,
            kind,
            identity,
            step=step.name,
            detail=detail,
        )
        enrollment.last_done = step.name
        following = self._following(enrollment)
        if following is None:
            self._end(track, enrollment, at, "finished", decision=False)
        elif step.until_completed and step.kind is not ast.StepKind.EMAIL:
            enrollment.status, enrollment.due_at = PAUSED, at
            enrollment.next_step = following.name
        else:
            enrollment.next_step = following.name
            enrollment.due_at = self._schedule(enrollment, following, at)

    def _schedule(
        self, enrollment: SeqEnrollment, step: ast.Step, after: dt.datetime
    ) -> dt.datetime:
        nominal = after
        if step.delay is not None:
            nominal = self.ctx.calendar.add(
                after, step.delay.amount, step.delay.unit.value, enrollment.zone
            )
        return self._opening(enrollment, nominal)

    def _opening(self, enrollment: SeqEnrollment, at: dt.datetime) -> dt.datetime:
        """The next instant at or after `at` inside the sequence's send window."""
        decl = self.sequences[enrollment.sequence]
        window = send_window(decl)
        span = window_of(window.start, window.end) if window else None
        return self.ctx.calendar.next_opening(
            at, span, follow_up(decl), enrollment.zone
        )

    def _completed(self, track: Track, at: dt.datetime, task: object) -> None:
        current = track.current
        if current is None or current.status != PAUSED or current.due_at is None:
            return
        if str(task) != current.last_done or at < current.due_at:
            return
        step = self._step(current)
        if step is None:
            return
        current.status = ACTIVE
        current.due_at = self._schedule(current, step, at)
        detail = f'step "{task}"'
        self._note(track, at, current.sequence, "task_completed", detail=detail)

    def _event(self, track: Track, at: dt.datetime, kind: str) -> None:
        current = track.current
        if current is None or at < current.requested_at:
            return
        reason = (
            ast.ExitReason.COMPANY_REPLIED
            if kind == "company_reply"
            else EXIT_EVENTS[kind]
        )
        decl = self.sequences.get(current.sequence)
        declared = exit_reasons(decl) if decl else frozenset()
        if reason in declared or reason in ALWAYS:
            self._end(track, current, at, reason.value, decision=True)

    def _exit(self, track: Track, leave: SequenceExit) -> None:
        current = track.current
        reason = f'unenrolled by "{leave.source}"'
        if current is not None and leave.sequence in (None, current.sequence):
            self._end(track, current, leave.at, reason, decision=True)
        dropped = [e for e in track.queue if leave.sequence in (None, e.sequence)]
        for enrollment in dropped:
            track.queue.remove(enrollment)
            self._note(track, leave.at, enrollment.sequence, "dequeued", reason=reason)

    def _end(
        self,
        track: Track,
        enrollment: SeqEnrollment,
        at: dt.datetime,
        reason: str,
        *,
        decision: bool,
    ) -> None:
        """The enrollment ends; the next queued request, if any, is handled now."""
        if decision and enrollment.status != PENDING:
            identity = self._identity(enrollment, "unenroll")
            self._emit(
                track, at, enrollment.sequence, "unenroll", identity, reason=reason
            )
        else:
            self._note(track, at, enrollment.sequence, "finish", reason=reason)
        enrollment.status, enrollment.ended_at, enrollment.reason = ENDED, at, reason
        enrollment.due_at = None
        track.past.append(enrollment)
        track.current = None
        if track.queue:
            queued = track.queue.pop(0)
            request = SequenceRequest(
                at,
                track.record_id,
                queued.sequence,
                sender_of_spec(queued.sender),
                start_of_spec(queued.start_step),
                queued.source or "",
                track.tick(),
            )
            self._profile_for(track.record_id, at)
            self._request(track, request)

    # -- helpers

    def _steps(self, sequence: str) -> tuple[ast.Step, ...]:
        found = self._step_cache.get(sequence)
        if found is None:
            decl = self.sequences.get(sequence)
            found = self._step_cache[sequence] = decl.steps if decl else ()
        return found

    def _step(self, enrollment: SeqEnrollment) -> ast.Step | None:
        return next(
            (
                s
                for s in self._steps(enrollment.sequence)
                if s.name == enrollment.next_step
            ),
            None,
        )

    def _following(self, enrollment: SeqEnrollment) -> ast.Step | None:
        steps = self._steps(enrollment.sequence)
        names = [s.name for s in steps]
        if enrollment.next_step not in names:
            return None
        index = names.index(enrollment.next_step) + 1
        return steps[index] if index < len(steps) else None

    def _identity(self, enrollment: SeqEnrollment, step: str) -> tuple[str, ...]:
        return (
            enrollment.sequence,
            self.ctx.version(enrollment.sequence),
            enrollment.record_id,
            step,
            str(enrollment.occurrence),
        )

    def _emit(
        self,
        track: Track,
        at: dt.datetime,
        source: str,
        kind: str,
        identity: tuple[str, ...],
        *,
        step: str | None = None,
        detail: str = "",
        reason: str = "",
    ) -> None:
        self.ctx.decide(
            Decision(
                at,
                track.record_id,
                source,
                kind,
                identity,
                step,
                detail,
                reason,
                _SEQUENCE_ORDER + track.tick(),
            )
        )

    def _note(
        self,
        track: Track,
        at: dt.datetime,
        source: str,
        kind: str,
        *,
        detail: str = "",
        reason: str = "",
    ) -> None:
        identity = (
            "note",
            source,
            track.record_id,
            kind,
            at.isoformat(),
            str(track.order),
        )
        self._emit(track, at, source, kind, identity, detail=detail, reason=reason)

    def _profiles(self) -> None:
        """Read email, owner, zone and opt-out as of every request's instant, and
        the first bounce and unsubscribe of every contact."""
        pairs = [
            (track.record_id, i.at)
            for track in self.tracks.values()
            for i in track.inputs
            if i.kind == "request"
        ]
        self.profiles = self.reader.profiles(pairs)
        self.problems = self.reader.problems()

    def _profile_for(self, record_id: str, at: dt.datetime) -> None:
        if (record_id, at) not in self.profiles:
            self.profiles.update(self.reader.profiles([(record_id, at)]))

    # -- results

    def rows(self) -> list[tuple[object, ...]]:
        """Every enrollment and queued request, as `seq_enrollments` rows."""
        found = []
        for track in self.tracks.values():
            for enrollment in (*track.past, *track.live(), *track.queue):
                found.append(enrollment.row())
        return found


_REFUSALS = {
    "ALREADY_ENROLLED": "ALREADY_ENROLLED: the contact is in another sequence",
    "MISSING_EMAIL": "MISSING_EMAIL: the contact has no email address",
    "BOUNCED": "BOUNCED: email to the contact has bounced",
    "UNSUBSCRIBED": "UNSUBSCRIBED: the contact has unsubscribed",
    "NO_SENDER": "NO_SENDER: the contact has no owner to send as",
}


def _requested_by(source: str | None) -> str:
    return f'requested by "{source}"' if source else ""
