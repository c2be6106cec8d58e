"""Supervision of conduct (数据铁笼): named checks over the case event log that show how power is used.

Every exercise of power on a case leaves a row in the append-only event log (dispatch.CaseEvent).
The rules here read that log, each with thresholds a supervisor changes in the admin (`RuleSetting`),
and store what they find (`Finding`): which rule, about which unit or person, which cases and which
event-log rows prove it, with figures. A finding's status changes and the explanations units add are
themselves append-only (`FindingEntry`, refused UPDATE/DELETE by a database trigger, as the event log).

Layout, as in an app: `models`, `rules` (the checks), `services` (everything that writes), `selectors`
(reads, with who-sees-what), `api`, `tasks`, `demo`. docs/supervision.md describes each rule.
"""
