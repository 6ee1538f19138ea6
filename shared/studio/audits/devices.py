"""Declared load profiles: the device a lab run emulates and the network and CPU it is throttled to.

The figures are Lighthouse's defaults (mobile: a Moto G Power on slow 4G, 150 ms RTT, 1.6 Mbps down,
750 kbps up, CPU slowed 4x; desktop: 40 ms, 10 Mbps, no CPU slowdown), applied for real through the
DevTools protocol (Network.emulateNetworkConditions, Emulation.setCPUThrottlingRate), not simulated.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Profile:
    name: str
    width: int
    height: int
    scale: float
    mobile: bool
    latency_ms: float
    down_kbps: float
    up_kbps: float
    cpu_slowdown: float

    def network(self) -> dict[str, Any]:
        """Network.emulateNetworkConditions parameters (throughput in bytes per second)."""
        return {"offline": False, "latency": self.latency_ms,
                "downloadThroughput": self.down_kbps * 1024 / 8, "uploadThroughput": self.up_kbps * 1024 / 8}

    def describe(self) -> dict[str, Any]:
        return asdict(self)


PROFILES: dict[str, Profile] = {
    "mobile": Profile("mobile", 412, 823, 1.75, True, 150, 1638.4, 750, 4),
    "desktop": Profile("desktop", 1350, 940, 1, False, 40, 10240, 10240, 1),
}
