"""The ML stage: XGBoost CLV regressor and value-tier classifier, baselines, evaluation and scoring."""
