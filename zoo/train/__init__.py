"""Training stages over one fine-tune core: SFT, rejection-sampling fine-tuning (RFT), GRPO, and dry-run estimates."""
