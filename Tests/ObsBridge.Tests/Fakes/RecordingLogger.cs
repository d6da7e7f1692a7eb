using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace CaptionSidecar.ObsBridge.Tests.Fakes;

/// <summary>Logger that keeps every formatted line (with its level and exception) for assertions.</summary>
public sealed class RecordingLogger<T> : ILogger<T>
{
    public ConcurrentQueue<(LogLevel Level, string Message, Exception? Exception)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        Entries.Enqueue((logLevel, formatter(state, exception), exception));
    }

    public string All => string.Join('\n', Entries.Select(e => $"{e.Level}: {e.Message}"));
}
