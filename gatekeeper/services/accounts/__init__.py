"""Accounts: staff users and passwords, who may see what of a photo, the instance and the DPO's options."""
