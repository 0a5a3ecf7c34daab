import t from 'tap'
import { detectImageType } from '../src/avatars/image-type.js'
import { AVATAR_NAME, contentTypeOf } from '../src/avatars/storage.js'
import { images } from './helper.js'

t.test('detects each accepted type by its magic bytes', async (t) => {
  t.equal(detectImageType(images.png), 'png')
  t.equal(detectImageType(images.jpg), 'jpg')
  t.equal(detectImageType(images.gif), 'gif')
  t.equal(detectImageType(Buffer.from('GIF87a000000')), 'gif')
  t.equal(detectImageType(images.webp), 'webp')
})

t.test('refuses everything else', async (t) => {
  const others = [
    Buffer.alloc(0),
    Buffer.from('hello world, plain text'),
    Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'),
    Buffer.from('<html><script>alert(1)</script>'),
    Buffer.from('%PDF-1.7\n%....'),
    Buffer.from('RIFF\x00\x00\x00\x00WAVEfmt ', 'latin1'), // RIFF but not WebP
    Buffer.from('BM6\x00\x00\x00\x00\x00\x00\x006\x00', 'latin1'), // BMP
    Buffer.from([0x89, 0x50, 0x4e, 0x47]), // a PNG signature cut short
    Buffer.from([0xff, 0xd8]) // a JPEG SOI without the next marker
  ]
  for (const b of others) t.equal(detectImageType(b), null, JSON.stringify(b.toString('latin1')))
})

t.test('generated names and their content types', async (t) => {
  t.ok(AVATAR_NAME.test('AAAAAAAAAAAAAAAAAAAAAA.png'))
  t.notOk(AVATAR_NAME.test('../AAAAAAAAAAAAAAAAAAAA.png'))
  t.notOk(AVATAR_NAME.test('AAAAAAAAAAAAAAAAAAAAAA.png/..'))
  t.equal(contentTypeOf('x.jpg'), 'image/jpeg')
  t.equal(contentTypeOf('x.webp'), 'image/webp')
})
