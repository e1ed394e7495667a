"""How much a run measures: the full run, the quick run and the smoke test's tiny run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from .configs import CONFIGS

ALL_HANDSHAKE_CONFIGS = tuple(config.name for config in CONFIGS if config.family in ("warden", "peer"))
ECHO_CONFIGS = ("warden_jwt_stateless_cold", "warden_session", "peer_auth_stack")
MEMORY_CONFIGS = (
    "warden_jwt_stateless_cold",
    "warden_drf_cold",
    "warden_session",
    "peer_auth_stack",
    "peer_jwt_stateless",
)


@dataclass(frozen=True)
class Plan:
    """Counts and switches of one run.

    Attributes:
        mode: ``full``, ``quick`` or ``smoke``.
        servers: ASGI servers of the handshake and echo tables.
        min_rounds / max_rounds: interleaved rounds (baseline, config, baseline, config, ... in a new
            order each round); after ``min_rounds`` they go on until every CPU-cost interval on uvicorn
            is narrower than ``± ci_target``, ``max_rounds`` are done or ``handshake_seconds`` (echo:
            ``echo_seconds``) have passed.
        handshakes: handshakes per rate measurement, ``concurrency`` at a time.
        latency_handshakes: handshakes per latency measurement, one at a time.
        warmup: untimed handshakes per configuration and server before the first round.
        query_handshakes: handshakes over which queries per handshake are counted.
        echo_sockets / echo_frames: sockets of the echo test and round trips per socket.
        memory_levels: idle connections held for the RSS measurement (uvicorn).
        revocation_sizes: sockets of one user closed by one revocation, with trials per size.
        two_processes: whether to measure revocation across two processes over Redis.
        settle_seconds: pause before reading a server's RSS.
        expiry_sockets: sockets whose JWT expires at the same second.
        expiry_lead: at least this many seconds between opening them and their ``exp``.
        peers: whether to measure the peers (their packages must be installed).
        instruction_configs: configurations whose instructions per handshake callgrind counts.
        instruction_handshakes / instruction_warmup: handshakes counted per configuration, and
            untimed ones before them.
    """

    mode: str
    servers: tuple[str, ...] = ("uvicorn", "daphne")
    min_rounds: int = 3
    max_rounds: int = 10
    ci_target: float = 0.03
    handshake_seconds: float = 200.0
    echo_seconds: float = 30.0
    handshakes: int = 250
    latency_handshakes: int = 50
    concurrency: int = 16
    warmup: int = 50
    query_handshakes: int = 50
    handshake_configs: tuple[str, ...] = ALL_HANDSHAKE_CONFIGS
    echo_configs: tuple[str, ...] = ECHO_CONFIGS
    echo_sockets: int = 16
    echo_frames: int = 250
    memory_configs: tuple[str, ...] = MEMORY_CONFIGS
    memory_levels: tuple[int, ...] = (1000, 5000, 10000)
    settle_seconds: float = 1.0
    revocation_sizes: dict[int, int] = field(default_factory=lambda: {1: 20, 100: 5, 1000: 3})
    two_processes: bool = True
    expiry_sockets: int = 200
    expiry_lead: float = 2.0
    peers: bool = True
    instruction_configs: tuple[str, ...] = ALL_HANDSHAKE_CONFIGS
    instruction_handshakes: int = 40
    instruction_warmup: int = 20
    seed: int = 20251121

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["revocation_sizes"] = {str(size): trials for size, trials in self.revocation_sizes.items()}
        return data

    def users_needed(self) -> int:
        """Seeded users: every cold DRF handshake takes a user of its own (DRF tokens are per user)."""
        per_server = (
            self.max_rounds * (self.handshakes + self.latency_handshakes)
            + self.warmup
            + self.query_handshakes
        )
        cold_drf = sum(1 for name in self.handshake_configs if name in ("warden_drf_cold", "peer_token_drf"))
        echo = len(self.echo_configs) * self.echo_sockets * self.max_rounds * len(self.servers)
        return 64 + max(cold_drf, 1) * per_server * len(self.servers) + echo


FULL = Plan("full")
QUICK = Plan(
    "quick",
    min_rounds=3,
    max_rounds=6,
    handshake_seconds=50.0,
    echo_seconds=10.0,
    handshakes=120,
    latency_handshakes=20,
    warmup=30,
    query_handshakes=20,
    echo_configs=("warden_jwt_stateless_cold",),
    echo_sockets=16,
    echo_frames=120,
    memory_configs=("warden_jwt_stateless_cold", "peer_auth_stack"),
    memory_levels=(1000,),
    settle_seconds=0.5,
    revocation_sizes={1: 5, 100: 2, 1000: 1},
    expiry_sockets=50,
    instruction_configs=("warden_jwt_stateless_cold", "warden_jwt_stateless_warm", "warden_drf_cold"),
    instruction_handshakes=40,
)
SMOKE = Plan(
    "smoke",
    servers=("uvicorn",),
    min_rounds=2,
    max_rounds=2,
    handshakes=20,
    latency_handshakes=5,
    concurrency=4,
    warmup=3,
    query_handshakes=3,
    echo_configs=("warden_jwt_stateless_cold",),
    echo_sockets=2,
    echo_frames=10,
    memory_configs=("warden_jwt_stateless_cold",),
    memory_levels=(20,),
    settle_seconds=0.1,
    revocation_sizes={1: 1, 10: 1},
    expiry_sockets=3,
    expiry_lead=0.3,
    peers=False,
    instruction_configs=("warden_jwt_stateless_cold",),
    instruction_handshakes=5,
    instruction_warmup=10,
)
PLANS = {plan.mode: plan for plan in (FULL, QUICK, SMOKE)}


def without_peers(plan: Plan) -> Plan:
    """The plan minus every peer configuration."""

    def keep(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(name for name in names if not name.startswith("peer_"))

    return replace(
        plan,
        peers=False,
        handshake_configs=keep(plan.handshake_configs),
        echo_configs=keep(plan.echo_configs),
        memory_configs=keep(plan.memory_configs),
        instruction_configs=keep(plan.instruction_configs),
    )
