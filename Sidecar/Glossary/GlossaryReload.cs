namespace CaptionSidecar.Glossaries;

/// <summary>
/// The watcher's decisions, without a clock or a file: given what the file read on each tick, when to put a new
/// glossary in force. A change is taken once the file reads the same on two ticks in a row (an editor saving in
/// several writes is not read half-way); a malformed or too long file is reported once and the last good glossary
/// kept; an unreadable file (null) is skipped.
/// </summary>
internal sealed class GlossaryReload(string path, string? basePrompt, string? initialText)
{
    private string? _applied = initialText;
    private string? _candidate;
    private string? _lastError;

    /// <summary>What to do after a tick read <paramref name="text"/> (null: the file could not be read).</summary>
    public GlossaryReloadAction Read(string? text)
    {
        if (text is null || text == _applied)
        {
            _candidate = null;
            return GlossaryReloadAction.None;
        }

        if (text != _candidate)
        {
            _candidate = text;
            return GlossaryReloadAction.None;
        }

        _candidate = null;
        _applied = text;
        var (glossary, error) = GlossarySource.Check(path, text, basePrompt);
        if (glossary is not null)
        {
            _lastError = null;
            return new GlossaryReloadAction.Apply(glossary);
        }

        if (error == _lastError)
        {
            return GlossaryReloadAction.None;
        }

        _lastError = error;
        return new GlossaryReloadAction.Refuse(error!);
    }
}

/// <summary>What the watcher does after reading the glossary file.</summary>
internal abstract record GlossaryReloadAction
{
    /// <summary>Nothing: unchanged, still changing, unreadable, or the same error again.</summary>
    public static GlossaryReloadAction None { get; } = new Nothing();

    /// <summary>Put <paramref name="Glossary"/> in force.</summary>
    public sealed record Apply(Glossary Glossary) : GlossaryReloadAction;

    /// <summary>Log <paramref name="Error"/>; the last good glossary stays.</summary>
    public sealed record Refuse(string Error) : GlossaryReloadAction;

    private sealed record Nothing : GlossaryReloadAction;
}
