"""Unit evaluation (三率 and friends) per period, in aggregate SQL: a fixed number of queries for any units.

    config.py     the settings in force (a city's `EvaluationSettings` or the defaults) and the period
    scores.py     the counts, the rates made of them and the composite score (no database)
    selectors.py  `evaluate_units`: the counts of every unit in a period, in three queries

The formulas are stated in docs/evaluation.md; in short, for unit U and the period P (whole days in
Asia/Shanghai, both ends included), counting only cases from the city's channels:

- 响应率 response    = signed in time / dispatched
- 解决率 resolution  = resolved / due
- 满意率 satisfaction = satisfied callbacks / callbacks
- 按期结案率 on-time closure = closed cases U replied to by the deadline / closed cases U led
- 返工率 rework      = failed verifications / verifications
- 退单率 return      = returned / dispatched
- score = weighted mean of the three 率 over those with data, × 100

The weights, the default period and the channels that count are the city's `EvaluationSettings`
(admin), or `EVALUATION_WEIGHTS`, the last 30 days and every channel where the city has none
(`evaluation_config`).

A rate whose denominator is zero is None ("no data"), never 0 % or 100 %, and the score leaves it out
(re-weighting the others); with none of the three the score is None.
"""
