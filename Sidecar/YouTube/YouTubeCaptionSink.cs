using CaptionSidecar.Captions;

namespace CaptionSidecar.YouTube;

/// <summary>
/// Hands the finished lines of the YouTube language to <see cref="YouTubeOutput"/>: each turn that became final, timed
/// where it started on the audio timeline (<see cref="AudioTimeline"/>, so the wall clock of when it was spoken) plus
/// the stream's offset. A named speaker's line starts with their name. Only queues: never waits on YouTube.
/// </summary>
internal sealed class YouTubeCaptionSink(YouTubeOutput output, AudioTimeline timeline) : ICaptionSink
{
    public string Name => "youtube";

    public ValueTask WriteAsync(CaptionUpdate update, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(update);
        var settings = output.Settings;
        if (update.Finalized.Count == 0 || !settings.Enabled || settings.Url is null
            || !string.Equals(update.Language, settings.Language, StringComparison.OrdinalIgnoreCase))
        {
            return ValueTask.CompletedTask;
        }

        return output.PostLinesAsync(Lines(update.Finalized, timeline, settings.Offset), cancellationToken);
    }

    public ValueTask CloseLanguageAsync(string language, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>The lines of <paramref name="items"/> with text, each timed at its start (plus <paramref name="offset"/>).</summary>
    internal static List<YouTubeLine> Lines(IEnumerable<CaptionItem> items, AudioTimeline timeline, TimeSpan offset)
    {
        List<YouTubeLine> lines = [];
        foreach (var item in items)
        {
            var text = item.Text.Trim();
            if (text.Length == 0)
            {
                continue;
            }

            var spokenAt = timeline.ToUtc(item.Start);
            lines.Add(new YouTubeLine(spokenAt, spokenAt + offset, item.Speaker is { } speaker ? speaker.Prefix + text : text));
        }

        return lines;
    }
}
