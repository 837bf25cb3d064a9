"""Where documents go: routing rules over sender, receiver, document type, test flag and content."""

from b2b_gateway.routing.default import DefaultRouter
from b2b_gateway.routing.rules import Predicate, Route, RouteTable, RulesRouter, Target, load_routes

__all__ = ["DefaultRouter", "Predicate", "Route", "RouteTable", "RulesRouter", "Target", "load_routes"]
