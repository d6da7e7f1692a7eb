namespace CaptionSidecar.YouTube;

/// <summary>
/// The YouTube caption output (captions posted to YouTube Live's ingestion URL; README "Captions on YouTube"). Bound
/// from <c>Outputs:YouTube</c>. The output is off while no URL is set here or saved from the control page.
/// </summary>
public sealed class YouTubeOptions
{
    public const string Section = "Outputs:YouTube";

    /// <summary>
    /// The ingestion URL from YouTube Studio (Live, stream settings, "Post captions to URL"). A secret: it is never
    /// logged or shown beyond its host. <c>--youtube-captions</c>. When set, it wins over one saved from the control page.
    /// </summary>
    public string? Url { get; set; }

    /// <summary>The caption language posted (a code, for example <c>en</c>). Default: the spoken language. <c>--youtube-language</c>.</summary>
    public string? Language { get; set; }

    /// <summary>
    /// Seconds added to every line's time: the stream's delay (a delay set in OBS, or YouTube's own latency) so the
    /// captions line up with the video viewers see. May be negative. Default 0. <c>--youtube-offset</c>.
    /// </summary>
    public double OffsetSeconds { get; set; }

    /// <summary>A line older than this many seconds (since it was spoken) is dropped and counted, not posted late. Default 30.</summary>
    public double MaxAgeSeconds { get; set; } = 30;

    /// <summary>false: keep the URL but post nothing until a moderator turns the output on. Default true.</summary>
    public bool Enabled { get; set; } = true;
}
