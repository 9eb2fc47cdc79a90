"""What a sales leader asks after scoring: the forecast by rep and period against quota, how the
pipeline moved between two exports, and whether the configured stage probabilities are honest.

Each concern is its own module, computed on scored deals (engine.score), never on raw rows:

- ``forecast``: open pipeline, weighted and won amounts grouped by owner, team, stage, period or
  forecast category, and coverage against the reps' quotas;
- ``movement``: what changed between two snapshots of the same pipeline, and a waterfall of the
  weighted pipeline whose steps add up to the difference;
- ``calibrate``: observed win rates per stage with Wilson intervals against the configured
  probabilities.
"""
