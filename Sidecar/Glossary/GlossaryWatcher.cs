namespace CaptionSidecar.Glossaries;

/// <summary>
/// Re-reads the glossary file every <see cref="Period"/> on the injected clock (polling is portable and testable with
/// a fake clock, where a FileSystemWatcher is neither). A change is applied once the file reads the same on two
/// ticks in a row (debounce: an editor saving in several writes is not read half-way). A malformed or too long
/// file is logged and the last good glossary kept.
/// </summary>
internal sealed partial class GlossaryWatcher(GlossarySource source, TimeProvider time, ILogger<GlossaryWatcher> logger) : BackgroundService
{
    /// <summary>How often the file is read.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    /// <summary>Polls the file until <paramref name="stoppingToken"/> fires; does nothing without a file.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (source.Path is not { } path)
        {
            return;
        }

        using var timer = new PeriodicTimer(Period, time);
        string? applied = null;
        string? candidate = null;
        string? lastError = null;
        try
        {
            applied = await ReadAsync(path, stoppingToken);
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var text = await ReadAsync(path, stoppingToken);
                if (text is null || text == applied)
                {
                    candidate = null;
                    continue;
                }

                if (text != candidate)
                {
                    // Changed since the last tick: wait one more tick for the writer to finish.
                    candidate = text;
                    continue;
                }

                candidate = null;
                applied = text;
                var (glossary, error) = GlossarySource.Check(path, text, source.BasePrompt);
                if (glossary is null)
                {
                    if (error != lastError)
                    {
                        LogRefused(logger, error!);
                    }

                    lastError = error;
                    continue;
                }

                lastError = null;
                source.Replace(glossary);
                LogReloaded(logger, path, glossary.Terms.Length);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task<string?> ReadAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return await File.ReadAllTextAsync(path, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Missing for a moment while an editor replaces it, or locked: read it again on the next tick.
            LogUnreadable(logger, path, ex.Message);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Glossary {Path} reloaded: {Terms} terms, used from the next sentence on")]
    private static partial void LogReloaded(ILogger logger, string path, int terms);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Glossary change ignored, the last good glossary stays in force: {Error}")]
    private static partial void LogRefused(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Glossary {Path} could not be read this time: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, string path, string reason);
}
