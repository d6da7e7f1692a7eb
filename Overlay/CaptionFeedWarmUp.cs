using System.Text.Json;
using Microsoft.Extensions.Hosting;

namespace CaptionSidecar.Overlay;

/// <summary>
/// Serialises one caption of the full shape (a labelled, coloured line) once at start, on a thread-pool thread after
/// the host started, and publishes nothing: the first caption update then does not pay for System.Text.Json's first
/// use of <see cref="OverlayJsonContext"/> (its options and metadata: about 25-40 ms of a JIT build's 50-80 ms first
/// caption through the overlay, against 1 ms for later ones; docs/benchmarks.md, "Release builds").
/// </summary>
internal sealed class CaptionFeedWarmUp : BackgroundService
{
    /// <summary>The caption serialised; never sent.</summary>
    internal static readonly OverlayCaption Sample = new(
        "en", 0, [new OverlayCaptionLine("Warm-up line.", "and its tail", "Speaker", "#ffffff")], Cleared: false, DateTimeOffset.UnixEpoch);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Off the starting thread: the host goes on starting (and the server answering) meanwhile.
        await Task.Yield();
        _ = JsonSerializer.SerializeToUtf8Bytes(Sample, OverlayJsonContext.Default.OverlayCaption);
    }
}
