"""Expert (scripted or planner-based) agents per environment family; they set leaderboard ceilings."""
