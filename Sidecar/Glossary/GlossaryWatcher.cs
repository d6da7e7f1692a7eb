namespace CaptionSidecar.Glossaries;

/// <summary>
/// Re-reads the glossary file every <see cref="Period"/> on the injected clock (polling is portable and testable with
/// a fake clock, where a FileSystemWatcher is neither); <see cref="GlossaryReload"/> decides (debounce, checks, last
/// good glossary kept).
/// </summary>
internal sealed partial class GlossaryWatcher(GlossarySource source, TimeProvider time, ILogger<GlossaryWatcher> logger) : BackgroundService
{
    /// <summary>How often the file is read.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Reads in a row that may fail quietly (an editor replacing the file) before the streamer is warned, once per
    /// outage, that the file is gone or locked and the last good glossary stays in force.
    /// </summary>
    public const int UnreadableReadsBeforeWarning = 5;

    private int _unreadableReads;

    /// <summary>Polls the file until <paramref name="stoppingToken"/> fires; does nothing without a file.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (source.Path is not { } path)
        {
            return;
        }

        try
        {
            // The text the ticks compare with is read before the timer starts, so a change made once the watcher is
            // waiting on the clock is always seen as one.
            var reload = new GlossaryReload(path, source.BasePrompt, await ReadAsync(path, stoppingToken));
            using var timer = new PeriodicTimer(Period, time);
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                switch (reload.Read(await ReadAsync(path, stoppingToken)))
                {
                    case GlossaryReloadAction.Apply apply:
                        LogReloaded(logger, path, apply.Glossary.Terms.Length);
                        source.Replace(apply.Glossary);
                        break;
                    case GlossaryReloadAction.Refuse refuse:
                        LogRefused(logger, refuse.Error);
                        break;
                }
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
            var text = await File.ReadAllTextAsync(path, cancellationToken);
            if (_unreadableReads >= UnreadableReadsBeforeWarning)
            {
                LogReadableAgain(logger, path);
            }

            _unreadableReads = 0;
            return text;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Missing for a moment while an editor replaces it, or locked: read it again on the next tick. Gone for
            // longer (deleted, moved, permissions changed): one warning, so the streamer knows edits are not seen.
            _unreadableReads++;
            if (_unreadableReads == UnreadableReadsBeforeWarning)
            {
                LogUnreadableForLong(logger, path, ex.Message);
            }
            else
            {
                LogUnreadable(logger, path, ex.Message);
            }

            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Glossary {Path} reloaded: {Terms} terms, used from the next sentence on")]
    private static partial void LogReloaded(ILogger logger, string path, int terms);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Glossary change ignored, the last good glossary stays in force: {Error}")]
    private static partial void LogRefused(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Glossary {Path} cannot be read ({Reason}): the last good glossary stays in force, and edits are picked up once the file is back")]
    private static partial void LogUnreadableForLong(ILogger logger, string path, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Glossary {Path} can be read again")]
    private static partial void LogReadableAgain(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Glossary {Path} could not be read this time: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, string path, string reason);
}
