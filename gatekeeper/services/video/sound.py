"""Whether a video keeps its sound on a channel: the DPO's choice, one option per channel, off by
default. Sound can speak pupils' names, and nothing covers a name in sound, so it is dropped
unless the school decides that a channel's videos need it (a performance, say); kept sound is
re-encoded (AAC) with nothing of the source's tags."""

from __future__ import annotations

from gatekeeper.domain.vocabulary import Channel
from gatekeeper.services.accounts import options
from gatekeeper.services.context import Context

KEEP_SOUND: dict[Channel, options.Option] = {
    channel: options.define(f"video_sound_{channel.value}", False,
                            f"Videos published for {channel.value} keep their sound "
                            "(it can speak pupils' names)", live_channel=channel.value)
    for channel in Channel}


def keeps_sound(*, ctx: Context, channel: Channel) -> bool:
    """The DPO's choice for the channel (no by default)."""
    return bool(options.get(ctx=ctx, option=KEEP_SOUND[channel]))
