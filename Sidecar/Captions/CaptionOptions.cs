using System.ComponentModel.DataAnnotations;

namespace CaptionSidecar.Captions;

/// <summary>How captions are laid out and kept. Bound from the <c>Captions</c> section.</summary>
public sealed class CaptionOptions
{
    public const string Section = "Captions";

    /// <summary>Display lines at most. Default 2 (broadcast norm).</summary>
    [Range(1, 10)]
    public int MaxLines { get; set; } = 2;

    /// <summary>Characters a display line at most. Default 42 (broadcast norm).</summary>
    [Range(10, 200)]
    public int MaxCharactersPerLine { get; set; } = 42;

    /// <summary>Seconds of silence (no new text) after which captions clear. Default 5; 0 never clears.</summary>
    [Range(0, 3600)]
    public double ClearAfterSeconds { get; set; } = 5;

    /// <summary>
    /// Characters one text delta from the engine may add at most (normally a few). Longer deltas are cut, with a
    /// warning once per turn, so a misbehaving server cannot grow memory or the transcripts. Default 2,000.
    /// </summary>
    [Range(100, 1_000_000)]
    public int MaxDeltaCharacters { get; set; } = 2_000;

    /// <summary>
    /// Characters one turn's text may have at most (a caption turn is a few hundred). Text beyond is cut, with a
    /// warning once per turn. Default 5,000.
    /// </summary>
    [Range(100, 1_000_000)]
    public int MaxTurnCharacters { get; set; } = 5_000;

    /// <summary>
    /// Turns with text but no commit held at most per language. The engine commits a turn before its text, so text
    /// for an item never committed is held (not shown) until its commit; beyond this number the oldest is dropped
    /// (counted). Default 32.
    /// </summary>
    [Range(1, 10_000)]
    public int MaxUncommittedTurns { get; set; } = 32;

    /// <summary>Seconds text for an item not committed is held waiting for its commit before it is dropped (counted). Default 30.</summary>
    [Range(1, 3600)]
    public double UncommittedTurnSeconds { get; set; } = 30;

    /// <summary>Folder for .srt, .vtt and .jsonl transcripts; empty for none. Relative paths are from the working directory.</summary>
    public string? TranscriptDirectory { get; set; }
}
