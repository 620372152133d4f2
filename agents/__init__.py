"""The agents: planner, department specialists and evaluator."""

from atomwork.agents.evaluator import Evaluator
from atomwork.agents.planner import Planner
from atomwork.agents.specialist import Specialist

__all__ = ["Evaluator", "Planner", "Specialist"]
