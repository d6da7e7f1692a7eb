namespace CaptionSidecar.Languages;

/// <summary>Which caption languages exist and which run at start. Bound from the <c>Languages</c> section.</summary>
public sealed class LanguageOptions
{
    public const string Section = "Languages";

    /// <summary>The translation targets moderators can pick when <see cref="Available"/> is not set.</summary>
    public const string DefaultAvailable = "es,fr,de,pt,it,nl,pl,ja,ko,zh";

    /// <summary>
    /// Translation targets on at start, comma-separated (<c>--languages es,fr</c>; an empty value means none). The
    /// source language runs as well. When not set, the choice moderators made last time is restored.
    /// </summary>
    public string? Enabled { get; set; }

    /// <summary>Translation targets moderators can turn on, comma-separated. Default <see cref="DefaultAvailable"/>.</summary>
    public string? Available { get; set; }

    /// <summary>Where the last choice is kept. Default <c>languages.json</c> in the per-user data folder.</summary>
    public string? StateFile { get; set; }
}
