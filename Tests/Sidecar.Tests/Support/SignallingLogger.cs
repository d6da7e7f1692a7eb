using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace CaptionSidecar.Tests.Support;

/// <summary>
/// A logger that keeps every entry and lets a test wait for the entry it expects (instead of sleeping and looking).
/// Also a logger factory whose loggers all write here, for code that takes an <see cref="ILoggerFactory"/>.
/// </summary>
internal sealed class SignallingLogger<T> : ILogger<T>, ILoggerFactory
{
    private readonly ListLogger<T> _entries = new();
    private readonly Channel<string> _messages = Channel.CreateUnbounded<string>();

    public IReadOnlyList<(LogLevel Level, Exception? Exception, string Message)> Entries => _entries.Entries;

    /// <summary>Waits for the next message (logged since the last one this returned) that <paramref name="wanted"/> accepts.</summary>
    public async Task<string> NextAsync(Func<string, bool> wanted, CancellationToken cancellationToken)
    {
        while (true)
        {
            var message = await _messages.Reader.ReadAsync(cancellationToken);
            if (wanted(message))
            {
                return message;
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        _entries.Log(logLevel, eventId, state, exception, formatter);
        _messages.Writer.TryWrite(formatter(state, exception));
    }

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }
}
