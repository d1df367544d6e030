"""Bitrix24 REST: a destination writer for the push engine (batch of 50, multi-fields by item id) and a
local emulator of the inbound-webhook API. See README.md here.
"""
