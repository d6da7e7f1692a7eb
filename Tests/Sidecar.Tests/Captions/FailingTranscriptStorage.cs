using System.Text;
using CaptionSidecar.Captions;

namespace CaptionSidecar.Tests.Captions;

/// <summary>
/// Transcripts in memory, with a switch that makes the disk "full": a write then stores half its bytes and throws,
/// as a real full disk can, and creating or opening a file throws.
/// </summary>
internal sealed class FailingTranscriptStorage : ITranscriptStorage
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<byte>> _files = new(StringComparer.Ordinal);

    /// <summary>While true, every create, open and write fails.</summary>
    public bool Full { get; set; }

    /// <summary>Writes that failed.</summary>
    public int FailedWrites { get; private set; }

    public void CreateDirectory(string path)
    {
        if (Full)
        {
            throw new IOException("No space left on device");
        }
    }

    public bool Exists(string path)
    {
        lock (_gate)
        {
            return _files.ContainsKey(path);
        }
    }

    public Stream CreateNew(string path)
    {
        Fail();
        lock (_gate)
        {
            if (!_files.TryAdd(path, []))
            {
                throw new IOException($"{path} exists");
            }
        }

        return new FileStreamFake(this, path);
    }

    public Stream OpenAt(string path, long length)
    {
        Fail();
        lock (_gate)
        {
            var content = _files[path];
            content.RemoveRange((int)length, content.Count - (int)length);
        }

        return new FileStreamFake(this, path);
    }

    public void TryDelete(string path)
    {
        lock (_gate)
        {
            _files.Remove(path);
        }
    }

    /// <summary>The text of the one file whose name ends with <paramref name="suffix"/>.</summary>
    public string Read(string suffix)
    {
        lock (_gate)
        {
            return Encoding.UTF8.GetString([.. _files.Single(f => f.Key.EndsWith(suffix, StringComparison.Ordinal)).Value]);
        }
    }

    public IReadOnlyList<string> Names
    {
        get
        {
            lock (_gate)
            {
                return [.. _files.Keys.Select(Path.GetFileName).OfType<string>()];
            }
        }
    }

    private void Fail()
    {
        if (Full)
        {
            throw new IOException("No space left on device");
        }
    }

    private void Append(string path, ReadOnlySpan<byte> bytes)
    {
        lock (_gate)
        {
            if (Full)
            {
                // Part of the write reaches the disk before it fills up.
                _files[path].AddRange(bytes[..(bytes.Length / 2)]);
                FailedWrites++;
                throw new IOException("No space left on device");
            }

            _files[path].AddRange(bytes);
        }
    }

    private sealed class FileStreamFake(FailingTranscriptStorage storage, string path) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => storage.Append(path, buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer) => storage.Append(path, buffer);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            storage.Append(path, buffer.Span);
            return ValueTask.CompletedTask;
        }
    }
}
