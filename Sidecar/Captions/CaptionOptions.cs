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

    /// <summary>Folder for .srt, .vtt and .jsonl transcripts; empty for none. Relative paths are from the working directory.</summary>
    public string? TranscriptDirectory { get; set; }
}
