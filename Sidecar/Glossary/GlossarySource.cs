using System.Globalization;

namespace CaptionSidecar.Glossaries;

/// <summary>
/// The glossary in force, and the file it comes from (<c>--glossary</c>, <c>Realtime:GlossaryFile</c>). Sessions read
/// <see cref="Current"/> when they configure themselves and listen to <see cref="Changed"/> to reconfigure; the
/// <see cref="GlossaryWatcher"/> replaces it when the file changes. Without a file it stays empty.
/// </summary>
public sealed class GlossarySource
{
    private Glossary _current;

    /// <summary>A source holding <paramref name="initial"/>, read from <paramref name="path"/> (null: no file).</summary>
    public GlossarySource(string? path, string? basePrompt, Glossary initial)
    {
        ArgumentNullException.ThrowIfNull(initial);
        Path = path;
        BasePrompt = basePrompt;
        _current = initial;
    }

    /// <summary>An empty source, for tracks without a glossary.</summary>
    public static GlossarySource None => new(null, null, Glossary.Empty);

    /// <summary>The glossary file's full path, or null when there is none.</summary>
    public string? Path { get; }

    /// <summary>The <c>--prompt</c> vocabulary the glossary's terms are added to.</summary>
    public string? BasePrompt { get; }

    /// <summary>The glossary in force (replaced whole, never changed in place).</summary>
    public Glossary Current => Volatile.Read(ref _current);

    /// <summary>Raised after <see cref="Current"/> was replaced, on the watcher's task; handlers must not block.</summary>
    public event EventHandler? Changed;

    /// <summary>
    /// Reads and checks a glossary file: the text parses and the transcription prompt it makes (with
    /// <paramref name="basePrompt"/>) fits the service's limit. Returns the glossary, or an error naming the file.
    /// </summary>
    public static (Glossary? Glossary, string? Error) Check(string path, string text, string? basePrompt)
    {
        Glossary glossary;
        try
        {
            glossary = Glossary.Parse(text);
        }
        catch (FormatException ex)
        {
            return (null, $"the glossary '{path}' is malformed: {ex.Message}");
        }

        var prompt = glossary.TranscriptionPrompt(basePrompt);
        if (prompt is not null && prompt.Length > Glossary.PromptLimit)
        {
            return (null, string.Create(
                CultureInfo.InvariantCulture,
                $"the glossary '{path}' is too long for a transcription prompt: its terms and --prompt make {prompt.Length} characters, the limit is {Glossary.PromptLimit}. Remove terms or shorten --prompt."));
        }

        return (glossary, null);
    }

    /// <summary>Puts <paramref name="glossary"/> in force and tells the sessions.</summary>
    public void Replace(Glossary glossary)
    {
        ArgumentNullException.ThrowIfNull(glossary);
        Volatile.Write(ref _current, glossary);
        Changed?.Invoke(this, EventArgs.Empty);
    }
}
