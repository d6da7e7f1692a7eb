using Polly;

namespace CaptionSidecar.ObsBridge;

/// <summary>Settings of <see cref="ObsCaptionOutput"/>.</summary>
public sealed class ObsCaptionOutputOptions
{
    /// <summary>Name of the text source per language; <c>{lang}</c> is replaced by the language code.
    /// Default <c>Captions ({lang})</c>.</summary>
    public string SourceNameTemplate { get; set; } = "Captions ({lang})";

    /// <summary>Scene in which missing caption sources are created; null = the current program scene.</summary>
    public string? SceneName { get; set; }

    /// <summary>Most text updates per second per source (latest wins in between). Default 15.</summary>
    public int MaxUpdatesPerSecond { get; set; } = 15;

    /// <summary>Font size of created sources. Default 48.</summary>
    public int FontSize { get; set; } = 48;

    /// <summary>Wrap width in pixels of created sources. Default 1600.</summary>
    public int TextWidth { get; set; } = 1600;

    /// <summary>Language whose final lines go into the stream as native CEA-608 captions (SendStreamCaption), or
    /// null for none.</summary>
    public string? NativeCaptionLanguage { get; set; }

    /// <summary>Rows per native caption frame (608 pop-on). Default 2.</summary>
    public int NativeCaptionRows { get; set; } = 2;

    /// <summary>Shortest time a native caption frame stays before the next one is sent. Default 1.5 s.</summary>
    public TimeSpan NativeCaptionMinDisplay { get; set; } = TimeSpan.FromSeconds(1.5);

    /// <summary>Longest time a native caption frame is held for reading when nothing else waits. Default 3 s.</summary>
    public TimeSpan NativeCaptionMaxDisplay { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Native caption frames that may wait; beyond it the oldest is dropped so captions stay in step with
    /// speech. Default 3.</summary>
    public int NativeCaptionBacklog { get; set; } = 3;

    /// <summary>
    /// How failed caption updates (source creation refused, a text update not accepted) and native caption frames are
    /// retried. Null (default): <see cref="ObsRetry.Default"/> from 0.5 s doubling to 10 s, forever, with jitter. A
    /// host passes its own product-wide policy here. A native caption frame is retried only while it is still worth
    /// showing (<see cref="NativeCaptionMaxDisplay"/>), then dropped and counted.
    /// </summary>
    public ResiliencePipeline? Retry { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(SourceNameTemplate) || !SourceNameTemplate.Contains("{lang}", StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"Obs:SourceNameTemplate must contain {{lang}} (got '{SourceNameTemplate}'), e.g. 'Captions ({{lang}})'.");
        }

        if (MaxUpdatesPerSecond is < 1 or > 60)
        {
            throw new ArgumentException($"Obs:MaxUpdatesPerSecond must be 1-60 (got {MaxUpdatesPerSecond}).");
        }

        if (FontSize is < 8 or > 512 || TextWidth is < 100 or > 4096)
        {
            throw new ArgumentException("Obs:FontSize must be 8-512 and Obs:TextWidth 100-4096.");
        }

        if (NativeCaptionRows is < 1 or > 4 || NativeCaptionBacklog < 1
            || NativeCaptionMinDisplay <= TimeSpan.Zero || NativeCaptionMaxDisplay < NativeCaptionMinDisplay)
        {
            throw new ArgumentException(
                "Obs native caption settings: rows 1-4, backlog >= 1, 0 < NativeCaptionMinDisplay <= NativeCaptionMaxDisplay.");
        }
    }
}
