"""Builds the experiments domain's services from the ports, once per instance."""
from __future__ import annotations

from dataclasses import dataclass

from studio.analytics.signals import SignalService
from studio.experiments.definitions import ExperimentService
from studio.experiments.enrolment import Enrolment
from studio.experiments.flags import FlagService
from studio.experiments.ofrep import FlagEvaluator
from studio.experiments.sdk_keys import SdkKeyService
from studio.experiments.signals import SignalReader, reader
from studio.kernel.deps import Deps, Slot


@dataclass(frozen=True)
class ExperimentsServices:
    experiments: ExperimentService
    flags: FlagService
    sdk_keys: SdkKeyService
    enrolment: Enrolment
    evaluator: FlagEvaluator
    read_signals: SignalReader


EXPERIMENTS: Slot[ExperimentsServices] = Slot("experiments")


def experiments_services(deps: Deps) -> ExperimentsServices:
    def build() -> ExperimentsServices:
        enrolment = Enrolment(deps.store)
        read_signals = reader(SignalService(deps.store))
        return ExperimentsServices(ExperimentService(deps.store), FlagService(deps.store), SdkKeyService(deps.store),
                                   enrolment, FlagEvaluator(deps.store, enrolment, read_signals), read_signals)

    return deps.memo(EXPERIMENTS, build)
