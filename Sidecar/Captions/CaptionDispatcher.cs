// PLACEHOLDER (contract only): the captions helper replaces this file.
namespace CaptionSidecar.Captions;

/// <summary>Fans caption updates out to every sink, one bounded queue and one task per sink.</summary>
public sealed class CaptionDispatcher : BackgroundService, ICaptionPublisher
{
    public CaptionDispatcher(IEnumerable<ICaptionSink> sinks, ILogger<CaptionDispatcher> logger)
    {
        throw new NotImplementedException();
    }

    public void Publish(CaptionUpdate update) => throw new NotImplementedException();

    /// <summary>Delivers everything queued for <paramref name="language"/>, then tells every sink to close it.</summary>
    public Task CloseLanguageAsync(string language, CancellationToken cancellationToken) => throw new NotImplementedException();

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => throw new NotImplementedException();
}
