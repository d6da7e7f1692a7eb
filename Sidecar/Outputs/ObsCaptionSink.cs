using CaptionSidecar.Captions;
using CaptionSidecar.ObsBridge;

namespace CaptionSidecar.Outputs;

/// <summary>
/// Adapts caption updates to <see cref="ObsCaptionOutput"/>: the laid-out lines become the text of the language's
/// OBS text source (the output coalesces and rate-limits them), and each finished line also goes to the native
/// stream captions. Never blocks: when OBS is down the output drops and later re-sends the current caption.
/// </summary>
internal sealed class ObsCaptionSink(ObsCaptionOutput output) : ICaptionSink
{
    public string Name => "obs";

    public ValueTask WriteAsync(CaptionUpdate update, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(update);
        if (update.Kind == CaptionUpdateKind.Cleared)
        {
            output.Clear(update.Language);
            return ValueTask.CompletedTask;
        }

        // A text is final when nothing tentative is showing: it must reach OBS even if newer partials follow.
        var settled = update.Finalized.Count > 0 && update.Lines.All(l => l.TentativeText.Length == 0);
        output.SetCaption(update.Language, update.DisplayText, settled);
        foreach (var item in update.Finalized)
        {
            output.AddStreamCaption(update.Language, item.Text);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask CloseLanguageAsync(string language, CancellationToken cancellationToken)
    {
        output.Clear(language);
        return ValueTask.CompletedTask;
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
