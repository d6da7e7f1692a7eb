using CaptionSidecar.Captions;
using CaptionSidecar.ObsBridge;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Outputs;

/// <summary>
/// Adapts caption updates to <see cref="ObsCaptionOutput"/>: the laid-out lines become the text of the language's
/// OBS text source (the output coalesces and rate-limits them), and each finished line also goes to the native
/// stream captions. Never blocks: when OBS is down the output drops and later re-sends the current caption.
/// </summary>
/// <remarks>
/// With named speakers each block of one speaker's lines is led by <c>Name: </c> in the language's source, and the
/// native captions mark a change of speaker (<c>&gt;&gt; NAME: </c>). With <see cref="ObsOptions.SpeakerSourceTemplate"/>
/// each speaker also has a source per language that shows only their lines (cleared when none is shown); this sink
/// remembers what each of those shows, so a speaker's source is only updated when their text changes. The dispatcher
/// calls a sink once at a time, so that record needs no lock.
/// </remarks>
internal sealed class ObsCaptionSink : ICaptionSink
{
    private readonly ObsCaptionOutput _output;
    private readonly string? _speakerSourceTemplate;

    // Per language: the speaker sources this sink has set, and the text each shows now.
    private readonly Dictionary<string, Dictionary<string, string>> _speakerTexts = new(StringComparer.Ordinal);

    /// <summary>One source per language (no speaker sources).</summary>
    public ObsCaptionSink(ObsCaptionOutput output)
        : this(output, Options.Create(new ObsOptions()))
    {
    }

    /// <summary>One source per language, and one per speaker and language when <see cref="ObsOptions.SpeakerSourceTemplate"/> is set.</summary>
    public ObsCaptionSink(ObsCaptionOutput output, IOptions<ObsOptions> options)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(options);
        _output = output;
        _speakerSourceTemplate = string.IsNullOrWhiteSpace(options.Value.SpeakerSourceTemplate) ? null : options.Value.SpeakerSourceTemplate;
    }

    public string Name => "obs";

    /// <summary>The name of a speaker's source for a language, or null when there are no speaker sources.</summary>
    internal string? SpeakerSourceName(string language, string speaker) =>
        _speakerSourceTemplate?.Replace("{lang}", language, StringComparison.Ordinal).Replace("{speaker}", speaker, StringComparison.Ordinal);

    public ValueTask WriteAsync(CaptionUpdate update, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(update);
        if (update.Kind == CaptionUpdateKind.Cleared)
        {
            _output.Clear(update.Language);
            ClearSpeakerSources(update.Language);
            return ValueTask.CompletedTask;
        }

        // A text is final when nothing tentative is showing: it must reach OBS even if newer partials follow.
        var settled = update.Finalized.Count > 0 && update.Lines.All(l => l.TentativeText.Length == 0);
        _output.SetCaption(update.Language, SubtitleFormat.LabelledText(update.Lines), settled);
        if (_speakerSourceTemplate is not null)
        {
            SetSpeakerSources(update);
        }

        foreach (var item in update.Finalized)
        {
            _output.AddStreamCaption(update.Language, item.Text, item.Speaker?.Name);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask CloseLanguageAsync(string language, CancellationToken cancellationToken)
    {
        _output.Clear(language);
        ClearSpeakerSources(language);
        return ValueTask.CompletedTask;
    }

    /// <summary>Each speaker's source shows that speaker's lines of the update; a speaker with none shown is cleared.</summary>
    private void SetSpeakerSources(CaptionUpdate update)
    {
        if (!_speakerTexts.TryGetValue(update.Language, out var shown))
        {
            shown = new Dictionary<string, string>(StringComparer.Ordinal);
            _speakerTexts[update.Language] = shown;
        }

        var now = update.Lines
            .Where(l => l.Speaker is not null)
            .GroupBy(l => l.Speaker!.Name, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        foreach (var (speaker, lines) in now)
        {
            var text = string.Join('\n', lines.Select(l => l.Text));
            if (shown.TryGetValue(speaker, out var before) && before == text)
            {
                continue;
            }

            var settled = lines.All(l => l.TentativeText.Length == 0)
                          && update.Finalized.Any(i => string.Equals(i.Speaker?.Name, speaker, StringComparison.Ordinal));
            shown[speaker] = text;
            _output.SetSourceText(SpeakerSourceName(update.Language, speaker)!, text, settled);
        }

        foreach (var speaker in shown.Keys.Where(s => !now.ContainsKey(s)).ToList())
        {
            shown.Remove(speaker);
            _output.SetSourceText(SpeakerSourceName(update.Language, speaker)!, string.Empty, isFinal: true);
        }
    }

    private void ClearSpeakerSources(string language)
    {
        if (_speakerTexts.Remove(language, out var shown))
        {
            foreach (var speaker in shown.Keys)
            {
                _output.SetSourceText(SpeakerSourceName(language, speaker)!, string.Empty, isFinal: true);
            }
        }
    }
}

/// <summary>
/// Starts the OBS connection with the host. The container disposes the output and the client when the host is
/// disposed, after every hosted service (the caption dispatcher included) has stopped.
/// </summary>
internal sealed class ObsConnection(ObsCaptionOutput output) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        output.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
