"""The paper's Table 3 baselines, trained on the same distilled goldens as the Prism student:
Att2Seq (Dong et al. 2017) and PEPLER (Li et al. 2023). See scripts/train_baseline.py."""
