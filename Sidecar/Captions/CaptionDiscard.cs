namespace CaptionSidecar.Captions;

/// <summary>Why a caption track dropped or cut text from the engine.</summary>
public enum CaptionDiscardReason
{
    /// <summary>Text for an item that was never committed: more such items arrived than are held.</summary>
    UncommittedTooMany,

    /// <summary>Text for an item that was never committed: its commit did not come in time.</summary>
    UncommittedTooOld,

    /// <summary>A turn was committed but more turns are pending than are held: the oldest is given up.</summary>
    PendingTooMany,

    /// <summary>One text delta was longer than <see cref="CaptionOptions.MaxDeltaCharacters"/>: its excess was cut.</summary>
    DeltaTooLong,

    /// <summary>A turn's text grew beyond <see cref="CaptionOptions.MaxTurnCharacters"/>: its excess was cut.</summary>
    TurnTooLong,
}

/// <summary>Text a caption track dropped or cut to stay bounded (a misbehaving engine or server).</summary>
/// <param name="Language">Caption language code.</param>
/// <param name="Reason">What was dropped or cut, and why.</param>
/// <param name="ItemId">The engine's id of the turn concerned.</param>
/// <param name="Characters">Characters dropped or cut.</param>
public sealed record CaptionDiscard(string Language, CaptionDiscardReason Reason, string ItemId, long Characters);
